"""The console's pure core: the order read model's fold, small decisions and the numbers."""
