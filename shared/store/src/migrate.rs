//! Schema migrations, embedded in the binary and applied by one command (`kgdb-local migrate`,
//! or the deploy's migration step), never on a Lambda cold start.
//!
//! Each file of `migrations/` runs once, in order, inside a transaction, and is recorded with a
//! checksum; editing an applied migration is refused rather than silently ignored.

use tokio_postgres::Client;
use tokio_postgres::types::Type;

pub struct Migration {
    pub version: i32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every file in `migrations/`, in order. A test checks this list against the folder.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_core_schema.sql",
        sql: include_str!("../../../migrations/0001_core_schema.sql"),
    },
    Migration {
        version: 2,
        name: "0002_scoring_views.sql",
        sql: include_str!("../../../migrations/0002_scoring_views.sql"),
    },
    Migration {
        version: 3,
        name: "0003_statistics_views.sql",
        sql: include_str!("../../../migrations/0003_statistics_views.sql"),
    },
    Migration {
        version: 4,
        name: "0004_pipeline_seam.sql",
        sql: include_str!("../../../migrations/0004_pipeline_seam.sql"),
    },
    Migration {
        version: 5,
        name: "0005_gene_list_keys.sql",
        sql: include_str!("../../../migrations/0005_gene_list_keys.sql"),
    },
    Migration {
        version: 6,
        name: "0006_annotations.sql",
        sql: include_str!("../../../migrations/0006_annotations.sql"),
    },
    Migration {
        version: 7,
        name: "0007_annotation_runs.sql",
        sql: include_str!("../../../migrations/0007_annotation_runs.sql"),
    },
    Migration {
        version: 8,
        name: "0008_gene_normalization.sql",
        sql: include_str!("../../../migrations/0008_gene_normalization.sql"),
    },
];

/// Arbitrary constant identifying the migration lock among advisory locks.
const MIGRATION_LOCK_KEY: i64 = 0x006b_6764_626d_6967; // "kgdbmig"

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("migration {name} was changed after it was applied (checksum {applied} != {current})")]
    Changed {
        name: String,
        applied: String,
        current: String,
    },
    #[error("migration {name} failed: {source}")]
    Failed {
        name: String,
        #[source]
        source: tokio_postgres::Error,
    },
    #[error(transparent)]
    Db(#[from] tokio_postgres::Error),
}

/// Checksums of this format cover statements only: full-line `--` comments are documentation
/// and may be corrected after a migration was applied; any change to what runs is refused.
const CHECKSUM_PREFIX: &str = "v2:";

/// FNV-1a of the migration's statements (full-line comments and trailing spaces left out):
/// enough to notice an edited migration, no crypto crate needed.
pub fn checksum(sql: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for line in sql
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim_start().starts_with("--"))
    {
        for byte in line.as_bytes().iter().chain(b"\n") {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{CHECKSUM_PREFIX}{hash:016x}")
}

/// Applies pending migrations; returns the names applied by this call.
pub async fn run(client: &mut Client) -> Result<Vec<&'static str>, MigrateError> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    integer PRIMARY KEY,
                 name       text NOT NULL,
                 checksum   text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await?;
    // Two deploys migrating at once must not both apply the same file.
    client
        .execute_typed(
            "SELECT pg_advisory_lock($1)",
            &[(&MIGRATION_LOCK_KEY, Type::INT8)],
        )
        .await?;
    let result = apply_pending(client).await;
    let unlock = client
        .execute_typed(
            "SELECT pg_advisory_unlock($1)",
            &[(&MIGRATION_LOCK_KEY, Type::INT8)],
        )
        .await;
    let applied = result?;
    unlock?;
    Ok(applied)
}

async fn apply_pending(client: &mut Client) -> Result<Vec<&'static str>, MigrateError> {
    let rows = client
        .query_typed("SELECT version, checksum FROM schema_migrations", &[])
        .await?;
    let applied: std::collections::HashMap<i32, String> =
        rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let mut done = Vec::new();
    for migration in MIGRATIONS {
        let current = checksum(migration.sql);
        if let Some(recorded) = applied.get(&migration.version) {
            if !recorded.starts_with(CHECKSUM_PREFIX) {
                // Recorded by the first runner, whose checksum covered comments too; that runner
                // verified it then. Record the statement checksum from now on.
                tracing::warn!(migration = migration.name, "re-recording a legacy checksum");
                client
                    .execute_typed(
                        "UPDATE schema_migrations SET checksum = $2 WHERE version = $1",
                        &[(&migration.version, Type::INT4), (&current, Type::TEXT)],
                    )
                    .await?;
                continue;
            }
            if *recorded != current {
                return Err(MigrateError::Changed {
                    name: migration.name.to_string(),
                    applied: recorded.clone(),
                    current,
                });
            }
            continue;
        }
        let tx = client.transaction().await?;
        tx.batch_execute(migration.sql)
            .await
            .map_err(|source| MigrateError::Failed {
                name: migration.name.to_string(),
                source,
            })?;
        tx.execute_typed(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
            &[
                (&migration.version, Type::INT4),
                (&migration.name, Type::TEXT),
                (&current, Type::TEXT),
            ],
        )
        .await?;
        tx.commit().await?;
        tracing::info!(migration = migration.name, "applied migration");
        done.push(migration.name);
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_embedded_in_order() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .expect("migrations dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let embedded: Vec<&str> = MIGRATIONS.iter().map(|m| m.name).collect();
        assert_eq!(files, embedded);
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1);
            assert!(m.name.starts_with(&format!("{:04}_", m.version)));
        }
    }

    #[test]
    fn checksums_ignore_comment_lines_but_not_statements() {
        let sql = "-- why\nCREATE TABLE t (a int); -- trailing\n";
        assert_eq!(
            checksum(sql),
            checksum("-- why, reworded\nCREATE TABLE t (a int); -- trailing  \n")
        );
        assert_ne!(
            checksum(sql),
            checksum("-- why\nCREATE TABLE t (b int); -- trailing\n")
        );
        assert_ne!(
            checksum(sql),
            checksum("CREATE TABLE t (a int); -- trailing changed\n")
        );
        assert!(checksum(sql).starts_with(CHECKSUM_PREFIX));
    }
}
