"""The WeChat edge: inbound messages, replies, and the API client with its fake for tests."""
