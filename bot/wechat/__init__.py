"""The WeChat edge: signatures, crypto, parsing, reply rendering and the API client."""
