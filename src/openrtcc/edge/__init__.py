"""The edge agent (`rtcc edge`): runs at the owner's site and is the authority over what leaves it."""
