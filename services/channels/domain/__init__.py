"""The decisions of the channels service, pure: a store's order in Dabba's terms (orders), what a
store is told about its parcels (news), the stock number it should show and how it gets there
(stock), and what a CSV import says (csv_import). No I/O here; the edges gather facts and hand
them over.
"""

from services.channels.domain.csv_import import CsvImport, parse_csv
from services.channels.domain.news import (
    LABELLED_BY,
    MAY_BE_STORE_NEWS,
    label_rates,
    store_told_at,
    tracking_url,
)
from services.channels.domain.orders import (
    Mappings,
    channel_order_id,
    marketplace_takes,
    store_order_from_json,
    store_order_json,
    to_channel_order,
)
from services.channels.domain.stock import last_full_push_due, next_try_in, stock_batches, stock_to_show

__all__ = [
    "LABELLED_BY",
    "MAY_BE_STORE_NEWS",
    "CsvImport",
    "Mappings",
    "channel_order_id",
    "label_rates",
    "last_full_push_due",
    "marketplace_takes",
    "next_try_in",
    "parse_csv",
    "stock_batches",
    "stock_to_show",
    "store_order_from_json",
    "store_order_json",
    "store_told_at",
    "to_channel_order",
    "tracking_url",
]
