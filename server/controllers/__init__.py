"""One Litestar controller per API resource."""
