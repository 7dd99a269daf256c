"""Money going back to customers: one Protocol (interface.py) and Razorpay's refund and payout APIs."""
