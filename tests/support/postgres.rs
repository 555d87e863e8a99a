//! A fresh PostgreSQL database per test, on the server every machine here runs at
//! 127.0.0.1:5432. Without a server the test says, loudly, that it was skipped.
use sqlx::Connection;

pub const SERVER_URL: &str = "postgres://postgres@127.0.0.1:5432";

pub async fn fresh_database(label: &str) -> Option<String> {
    sqlx::any::install_default_drivers();
    let admin_url =
        std::env::var("KAKEHASHI_TEST_POSTGRES").unwrap_or_else(|_| SERVER_URL.to_owned());
    let mut admin = match sqlx::AnyConnection::connect(&format!("{admin_url}/postgres")).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("SKIPPED: PostgreSQL test `{label}`: no server at {admin_url} ({e})");
            if std::env::var("CI").is_ok() {
                panic!("PostgreSQL is required in CI; .ci/run starts it");
            }
            return None;
        }
    };
    let name = format!("kakehashi_test_{label}_{}", uuid_like());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create test database");
    Some(format!("{admin_url}/{name}"))
}

fn uuid_like() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..12)
        .map(|_| char::from(b'a' + rng.random_range(0..26u8)))
        .collect()
}
