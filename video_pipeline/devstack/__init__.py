"""The development stack: embedded Postgres (pgvector) and S3 servers, and the `dev` and
`demo` runners that bring the whole system up on them."""
