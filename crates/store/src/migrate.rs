//! Forward-only schema migrations keyed on `PRAGMA user_version`, each applied in its own
//! transaction so a failure leaves the database at its previous schema.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Result, StoreError};

/// Migration `i` (0-based) takes the schema from version `i` to `i + 1`. Append only; never edit
/// a released entry. Foreign keys are enforced while migrations run (the pragma cannot change
/// inside a transaction), so a step that rebuilds a table must copy rows in dependency order.
pub(crate) const MIGRATIONS: &[&str] = &[
    include_str!("schema/v1.sql"),
    include_str!("schema/v2.sql"),
    include_str!("schema/v3.sql"),
    include_str!("schema/v4.sql"),
    include_str!("schema/v5.sql"),
    include_str!("schema/v6.sql"),
    include_str!("schema/v7.sql"),
    include_str!("schema/v8.sql"),
    include_str!("schema/v9.sql"),
    include_str!("schema/v10.sql"),
    include_str!("schema/v11.sql"),
    include_str!("schema/v12.sql"),
    include_str!("schema/v13.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Reads the schema version recorded in the file.
pub(crate) fn user_version(conn: &Connection) -> Result<i64> {
    Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
}

/// Brings the database up to [`SCHEMA_VERSION`].
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    migrate_with(conn, MIGRATIONS)
}

pub(crate) fn migrate_with(conn: &mut Connection, migrations: &[&str]) -> Result<()> {
    let known = i64::try_from(migrations.len()).unwrap_or(i64::MAX);
    let current = user_version(conn)?;
    if current > known {
        return Err(StoreError::SchemaTooNew {
            found: current,
            known,
        });
    }
    if current < 0 {
        return Err(StoreError::Decode(format!(
            "negative schema version {current}"
        )));
    }
    for (index, sql) in migrations.iter().enumerate() {
        let version = i64::try_from(index).unwrap_or(i64::MAX) + 1;
        if version <= current {
            continue;
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Another process may have migrated between our read and taking the write lock.
        if user_version(&tx)? >= version {
            continue;
        }
        tx.execute_batch(sql)
            .and_then(|()| tx.pragma_update(None, "user_version", version))
            .map_err(|e| StoreError::Migration {
                version,
                detail: e.to_string(),
            })?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_migration_rolls_back_to_previous_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        let steps = [
            "CREATE TABLE a (x INTEGER);",
            "CREATE TABLE b (y INTEGER); SELECT * FROM missing;",
        ];
        let err = migrate_with(&mut conn, &steps).unwrap_err();
        assert!(
            matches!(err, StoreError::Migration { version: 2, .. }),
            "{err}"
        );
        assert_eq!(user_version(&conn).unwrap(), 1);
        let b_exists: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'b'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(b_exists, 0, "the failed step must leave no trace");
    }

    #[test]
    fn applies_only_missing_steps() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_with(&mut conn, &["CREATE TABLE a (x INTEGER);"]).unwrap();
        // Re-running step 1 would fail (table exists); only step 2 may run.
        migrate_with(
            &mut conn,
            &["CREATE TABLE a (x INTEGER);", "CREATE TABLE b (y INTEGER);"],
        )
        .unwrap();
        assert_eq!(user_version(&conn).unwrap(), 2);
    }

    #[test]
    fn newer_schema_is_refused_with_upgrade_advice() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 5)
            .unwrap();
        let err = migrate(&mut conn).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("written by a newer Pryx"), "{msg}");
        assert!(
            msg.contains(&format!("schema {}", SCHEMA_VERSION + 5)),
            "{msg}"
        );
        assert!(
            msg.contains(&format!("this build knows {SCHEMA_VERSION}")),
            "{msg}"
        );
        assert!(msg.contains("upgrade Pryx"), "{msg}");
    }
}
