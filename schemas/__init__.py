"""Pydantic models of documents and run parameters, and the Arrow schemas derived from them."""
