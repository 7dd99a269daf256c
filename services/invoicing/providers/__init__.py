"""Providers of the invoicing service: the Invoice Registration Portal (IRP), its interface and NIC's."""
