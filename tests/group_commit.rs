//! Group commit on PostgreSQL, where a refused statement aborts the whole transaction until
//! its savepoint is rolled back: concurrent writes share commits, and one write's failure
//! (a refused statement, an error, an undo) leaves the others of its batch stored.
mod support;

use kakehashi::store::group::{GroupCommit, Keep};
use kakehashi::store::{SqlStore, Store, StoreError};

async fn insert(group: GroupCommit, k: String, then: u8) -> Result<String, StoreError> {
    group
        .run(move |tx, _log| {
            Box::pin(async move {
                sqlx::query("INSERT INTO kv (k) VALUES ($1)")
                    .bind(&k)
                    .execute(&mut **tx)
                    .await?;
                match then {
                    1 => Ok(Keep::Undo(k)),
                    2 => Err(StoreError::Conflict),
                    3 => {
                        sqlx::query("INSERT INTO kv (k) VALUES ($1)")
                            .bind(&k)
                            .execute(&mut **tx)
                            .await?;
                        Ok(Keep::Commit(k))
                    }
                    _ => Ok(Keep::Commit(k)),
                }
            })
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failed_write_does_not_sink_its_batch_on_postgres() {
    let Some(url) = support::postgres::fresh_database("group").await else {
        return;
    };
    let store = SqlStore::connect(&url).await.unwrap();
    sqlx::query("CREATE TABLE kv (k TEXT PRIMARY KEY)")
        .execute(store.pool())
        .await
        .unwrap();
    let group = store.group().clone();
    let tasks: Vec<_> = (0..400u32)
        .map(|i| tokio::spawn(insert(group.clone(), format!("k{i:03}"), (i % 7) as u8)))
        .collect();
    let mut want = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        let answer = task.await.unwrap();
        match i % 7 {
            1 => assert!(answer.is_ok()),
            2 => assert!(matches!(answer, Err(StoreError::Conflict))),
            3 => assert!(matches!(answer, Err(StoreError::Database(_))), "{answer:?}"),
            _ => {
                answer.unwrap();
                want.push(format!("k{i:03}"));
            }
        }
    }
    let stored: Vec<String> = sqlx::query_scalar("SELECT k FROM kv ORDER BY k")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(stored, want);
    let (writes, commits) = group.stats().snapshot();
    assert_eq!(writes, 400);
    assert!(commits < 400, "{commits} commits: nothing was batched");
}
