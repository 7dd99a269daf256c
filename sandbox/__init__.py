"""Local stand-ins for Dabba's external providers (couriers, WhatsApp, later SMS and payments).
One process serves each provider's documented HTTP shapes from in-memory state, with test knobs."""
