//! `GET /api/genes/{gene_symbol}`: the body is rendered by the `gene_list` materialized view at
//! refresh time (`detail_doc`), so a request is one index lookup.

use kgdb_web::http::BodyResult;
use kgdb_web::{ApiError, AppState};
use tokio_postgres::types::Type;

pub async fn handle(state: &AppState, symbol: &str) -> BodyResult {
    let client = state.pool.get().await?;
    let row = client
        .query_typed_opt(
            "SELECT detail_doc FROM gene_list WHERE symbol_upper = upper($1) ORDER BY id LIMIT 1",
            &[(&symbol, Type::TEXT)],
        )
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Gene '{symbol}' not found")))?;
    Ok(row.get(0))
}
