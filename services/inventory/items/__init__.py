"""The item master: what each SKU is (model), where it is kept (store) and its HTTP routes (api)."""
