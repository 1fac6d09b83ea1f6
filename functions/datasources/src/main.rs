//! Lambda entry point: state is built once per cold start and lent to every invocation.

kgdb::http_function_main!(kgdb_fn_datasources::handle);
