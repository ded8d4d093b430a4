"""Media stores: local files (embedded) behind the MediaStore port."""
