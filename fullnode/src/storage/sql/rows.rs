//! Multi-row statements: many rows in one `INSERT … VALUES (…), (…), …`, so
//! a write costs one round trip to the database per run of rows instead of
//! one per row. A batch is cut into runs of 64, 32, …, 1 rows, so each
//! statement has at most seven shapes, prepared once per connection.

use sqlx::AnyConnection;

use crate::storage::StorageError;

/// Rows in the longest run: 2^6 = 64 (at 11 columns, 704 parameters, far
/// under SQLite's and PostgreSQL's limits).
const MAX_ROWS_LOG2: u32 = 6;

/// What `AnyConnection::backend_name` says for SQLite.
const SQLITE: &str = "SQLite";

/// A statement with its parameters (arguments are copied in as they are bound).
pub(super) type AnyQuery = sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments>;

/// The shapes of one multi-row statement: `{head} VALUES ($1, …), … {tail}`
/// for 1, 2, 4, … 64 rows of `columns` parameters. Kept in statics (sqlx
/// takes `'static` statement text).
///
/// SQLite gets anonymous `?` parameters instead of `$n`: sqlx binds a named
/// parameter by looking its name up, a scan of the statement's names, so a
/// 704-parameter statement spent more time binding than inserting.
#[derive(Debug)]
pub(super) struct MultiRow {
    numbered: Vec<String>,
    anonymous: Vec<String>,
}

impl MultiRow {
    pub(super) fn new(head: &str, columns: usize, tail: &str) -> Self {
        let shapes = |parameter: &dyn Fn(usize) -> String| -> Vec<String> {
            (0..=MAX_ROWS_LOG2)
                .map(|log2| {
                    let rows: Vec<String> = (0..1usize << log2)
                        .map(|row| {
                            let first = row * columns + 1;
                            let parameters: Vec<String> =
                                (first..first + columns).map(parameter).collect();
                            format!("({})", parameters.join(", "))
                        })
                        .collect();
                    format!("{head} VALUES {} {tail}", rows.join(", "))
                })
                .collect()
        };
        Self {
            numbered: shapes(&|number| format!("${number}")),
            anonymous: shapes(&|_| "?".to_owned()),
        }
    }

    /// Writes `rows`, each bound by `bind`, in runs of at most 64.
    pub(super) async fn execute<R>(
        &'static self,
        connection: &mut AnyConnection,
        mut rows: &[R],
        bind: impl Fn(AnyQuery, &R) -> AnyQuery,
    ) -> Result<(), StorageError> {
        let statements = if connection.backend_name() == SQLITE {
            &self.anonymous
        } else {
            &self.numbered
        };
        while !rows.is_empty() {
            let log2 = rows.len().ilog2().min(MAX_ROWS_LOG2);
            let (run, rest) = rows.split_at(1 << log2);
            let mut query = sqlx::query(statements[log2 as usize].as_str());
            for row in run {
                query = bind(query, row);
            }
            query.execute(&mut *connection).await?;
            rows = rest;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_rows_number_their_parameters_in_order() {
        let shapes = MultiRow::new("INSERT INTO t (a, b)", 2, "ON CONFLICT DO NOTHING");
        assert_eq!(
            shapes.numbered[0],
            "INSERT INTO t (a, b) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        );
        assert_eq!(
            shapes.numbered[1],
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) ON CONFLICT DO NOTHING"
        );
        assert_eq!(shapes.numbered.len(), 7);
        assert!(shapes.numbered[6].ends_with("($127, $128) ON CONFLICT DO NOTHING"));
        assert_eq!(
            shapes.anonymous[1],
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?) ON CONFLICT DO NOTHING"
        );
        assert_eq!(shapes.anonymous[6].matches('?').count(), 128);
    }
}
