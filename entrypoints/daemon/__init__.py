"""The daemon and its JSON-RPC: socket and stdio servers, the method table, file watching."""
