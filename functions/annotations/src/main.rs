//! Lambda entry point: state is built once per cold start and lent to every invocation.

kgdb_web::http_function_main!(kgdb_fn_annotations::handle);
