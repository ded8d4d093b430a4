"""MQTT adapters: the Frigate subscriber."""
