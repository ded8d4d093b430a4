"""Plate reader on onnxruntime: model files, plate detector, plate OCR and the reader that joins them."""
