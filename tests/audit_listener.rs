//! The auditor's side of a running switch: the log served as tlog-tiles over HTTP and as
//! `AuditService` over gRPC on the auditor-only listener, each answer checkable against a
//! signed checkpoint; and the two kinds of credentials kept apart: an auditor's token calls
//! no merchant RPC, a terminal's key calls no audit RPC.
mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use kakehashi::audit::checkpoint::keygen;
use kakehashi::audit::{AuditEntry, EntryKind, export};
use kakehashi::config::hash_api_key;
use kakehashi::store::SqlStore;
use kakehashi::store::audit_sql;
use kakehashi::{Config, Switch};
use kakehashi_proto::v1 as pb;
use kakehashi_proto::v1::acceptance_service_client::AcceptanceServiceClient;
use kakehashi_proto::v1::audit_service_client::AuditServiceClient;
use serde_json::json;
use sqlx::AnyPool;
use tonic::Code;
use tonic::transport::Channel;
use tonic_types::StatusExt;

const ORIGIN: &str = "kakehashi.example/audit/listener-test";
const AUDITOR_TOKEN: &str = "auditor-token-0123456789abcdef";
const TERMINAL_KEY: &str = "till-1-test-key-0001";

struct Running {
    _dir: tempfile::TempDir,
    terminal_addr: SocketAddr,
    auditor_addr: SocketAddr,
    pool: AnyPool,
    verifier_key: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

fn entry(i: u64) -> AuditEntry {
    AuditEntry {
        kind: EntryKind::parse(EntryKind::PAYMENT_TRANSITION).unwrap(),
        at_ms: 1_767_225_600_000 + i as i64 * 1000,
        payment_id: Some(format!("pay-{}", i / 4)),
        merchant_id: Some("shinjuku-ramen".into()),
        body: json!({"seq": i % 4, "code": "****1234"}),
    }
}

async fn append(pool: &AnyPool, range: std::ops::Range<u64>) {
    let entries: Vec<AuditEntry> = range.map(entry).collect();
    for chunk in entries.chunks(64) {
        let mut tx = pool.begin().await.unwrap();
        audit_sql::append(&mut tx, chunk).await.unwrap();
        tx.commit().await.unwrap();
    }
}

/// A switch with `[audit]` on, its log holding 300 entries: 299 appended here, then the
/// switch's own record of the rule set it decides under.
async fn running_switch() -> Running {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("audit.key");
    let (private, verifier_key) = keygen(ORIGIN).unwrap();
    kakehashi::audit::checkpoint::write_key_file(&key_path, &private).unwrap();
    let store_url = format!("sqlite://{}", dir.path().join("switch.db").display());
    let pool = SqlStore::connect(&store_url).await.unwrap().pool().clone();
    // The switch logs its rule set's activation when it starts: entry 299.
    append(&pool, 0..299).await;
    let text = format!(
        r#"
listen = "127.0.0.1:0"
store_url = "{store_url}"
[[merchants]]
id = "shinjuku-ramen"
name = "Shinjuku Ramen"
networks = []
[[terminals]]
id = "till-1"
merchant_id = "shinjuku-ramen"
api_key = "{TERMINAL_KEY}"
[audit]
origin = "{ORIGIN}"
key_path = "{key}"
listen = "127.0.0.1:0"
checkpoint_interval_ms = 50
checkpoint_entries = 1
[[audit.auditors]]
name = "external-auditor"
token_sha256 = "{token}"
"#,
        key = key_path.display(),
        token = hash_api_key(AUDITOR_TOKEN),
    );
    let config = Config::parse(&text).unwrap();
    let switch = Switch::build(config).await.unwrap();
    let terminal_addr = switch.local_addr();
    let auditor_addr = switch.auditor_addr().expect("auditor listener bound");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(switch.serve(async move {
        let _ = stopped.await;
    }));
    let running = Running {
        _dir: dir,
        terminal_addr,
        auditor_addr,
        pool,
        verifier_key,
        _stop: stop,
    };
    wait_for_checkpoint(&running, 300).await;
    running
}

/// Polls until the writer has signed a checkpoint of `size` (it runs every 50 ms).
async fn wait_for_checkpoint(running: &Running, size: u64) {
    for _ in 0..200 {
        let latest = audit_sql::latest_checkpoint(&running.pool).await.unwrap();
        if latest.is_some_and(|c| c.checkpoint.size >= size) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no checkpoint of size {size} within 5 s");
}

async fn channel(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

fn with_token<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {AUDITOR_TOKEN}").parse().unwrap(),
    );
    request
}

fn with_terminal_key<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("x-api-key", TERMINAL_KEY.parse().unwrap());
    request
}

fn reason(status: &tonic::Status) -> String {
    status
        .get_details_error_info()
        .map(|i| i.reason)
        .unwrap_or_default()
}

fn hash(bytes: &[u8]) -> tlog_tiles::Hash {
    tlog_tiles::Hash(bytes.try_into().unwrap())
}

async fn get(addr: SocketAddr, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(format!("http://{addr}{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiles_are_served_byte_exact_to_the_export_and_only_to_auditors() {
    let running = running_switch().await;
    let export_dir = running._dir.path().join("export");
    export::export(&running.pool, &export_dir).await.unwrap();
    for path in [
        "checkpoint",
        "tile/0/000",
        "tile/0/001.p/44",
        "tile/1/000.p/1",
        "tile/entries/000",
        "tile/entries/001.p/44",
    ] {
        let response = get(
            running.auditor_addr,
            &format!("/{path}"),
            Some(AUDITOR_TOKEN),
        )
        .await;
        assert_eq!(response.status(), 200, "{path}");
        let served = response.bytes().await.unwrap();
        let exported = std::fs::read(Path::new(&export_dir).join(path)).unwrap();
        assert_eq!(served.as_ref(), exported.as_slice(), "{path}");
    }
    let note = get(running.auditor_addr, "/checkpoint", Some(AUDITOR_TOKEN))
        .await
        .bytes()
        .await
        .unwrap();
    let checkpoint = kakehashi::audit::checkpoint::verify(&note, &running.verifier_key).unwrap();
    assert_eq!(checkpoint.size, 300);

    // Beyond the signed tree, or not a tile path: 404. No token, a wrong one, or a
    // terminal's key: 401.
    for path in ["/tile/0/001.p/45", "/tile/0/1", "/tile/entries/002"] {
        let response = get(running.auditor_addr, path, Some(AUDITOR_TOKEN)).await;
        assert_eq!(response.status(), 404, "{path}");
    }
    assert_eq!(
        get(running.auditor_addr, "/checkpoint", None)
            .await
            .status(),
        401
    );
    assert_eq!(
        get(running.auditor_addr, "/checkpoint", Some("not-the-token"))
            .await
            .status(),
        401
    );
    let with_key = reqwest::Client::new()
        .get(format!("http://{}/checkpoint", running.auditor_addr))
        .header("x-api-key", TERMINAL_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(with_key.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_service_answers_with_proofs_that_check_against_the_checkpoint() {
    let running = running_switch().await;
    let mut client = AuditServiceClient::new(channel(running.auditor_addr).await);
    let first = client
        .get_checkpoint(with_token(pb::GetCheckpointRequest { tree_size: 0 }))
        .await
        .unwrap()
        .into_inner()
        .checkpoint
        .unwrap();
    assert_eq!(first.tree_size, 300);
    kakehashi::audit::checkpoint::verify(&first.note, &running.verifier_key).unwrap();

    let page = client
        .list_entries(with_token(pb::ListEntriesRequest {
            start_index: 10,
            end_index: 20,
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.entries.len(), 10);
    assert_eq!(page.next_index, 20);
    assert_eq!(
        AuditEntry::decode(&page.entries[3].entry).unwrap(),
        entry(13)
    );

    let payment = client
        .list_payment_entries(with_token(pb::ListPaymentEntriesRequest {
            payment_id: "pay-7".into(),
            start_index: 0,
        }))
        .await
        .unwrap()
        .into_inner();
    let indexes: Vec<u64> = payment.entries.iter().map(|e| e.index).collect();
    assert_eq!(indexes, [28, 29, 30, 31]);

    let period = client
        .list_period_entries(with_token(pb::ListPeriodEntriesRequest {
            start_time_ms: 1_767_225_600_000 + 100_000,
            end_time_ms: 1_767_225_600_000 + 105_000,
            start_index: 0,
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        period.entries.iter().map(|e| e.index).collect::<Vec<_>>(),
        [100, 101, 102, 103, 104]
    );

    let proof = client
        .get_inclusion_proof(with_token(pb::GetInclusionProofRequest {
            index: 123,
            tree_size: 0,
        }))
        .await
        .unwrap()
        .into_inner();
    let path: Vec<tlog_tiles::Hash> = proof.proof.iter().map(|h| hash(h)).collect();
    let leaf = tlog_tiles::record_hash(&entry(123).encode().unwrap());
    assert_eq!(hash(&proof.leaf_hash), leaf);
    tlog_tiles::check_record(&path, 300, hash(&first.root_hash), 123, leaf).unwrap();

    // The log grows; the writer signs a new checkpoint; the two are proven consistent.
    append(&running.pool, 300..350).await;
    wait_for_checkpoint(&running, 350).await;
    let second = client
        .get_checkpoint(with_token(pb::GetCheckpointRequest { tree_size: 0 }))
        .await
        .unwrap()
        .into_inner()
        .checkpoint
        .unwrap();
    let consistency = client
        .get_consistency_proof(with_token(pb::GetConsistencyProofRequest {
            first_size: 300,
            second_size: second.tree_size,
        }))
        .await
        .unwrap()
        .into_inner();
    let path: Vec<tlog_tiles::Hash> = consistency.proof.iter().map(|h| hash(h)).collect();
    tlog_tiles::check_tree(
        &path,
        second.tree_size,
        hash(&second.root_hash),
        300,
        hash(&first.root_hash),
    )
    .unwrap();

    let mut stream = client
        .export_period(with_token(pb::ExportPeriodRequest {
            start_time_ms: 0,
            end_time_ms: i64::MAX,
        }))
        .await
        .unwrap()
        .into_inner();
    let mut exported = 0;
    let mut checkpoint = None;
    while let Some(message) = stream.message().await.unwrap() {
        checkpoint = checkpoint.or(message.checkpoint);
        exported += message.entries.len() as u64;
    }
    assert_eq!(Some(exported), checkpoint.map(|c| c.tree_size));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_rich_errors_naming_the_reason() {
    let running = running_switch().await;
    let mut client = AuditServiceClient::new(channel(running.auditor_addr).await);
    let beyond = client
        .get_inclusion_proof(with_token(pb::GetInclusionProofRequest {
            index: 300,
            tree_size: 0,
        }))
        .await
        .unwrap_err();
    assert_eq!(beyond.code(), Code::OutOfRange);
    assert_eq!(reason(&beyond), "AUDIT_NOT_IN_TREE");
    let empty = client
        .list_period_entries(with_token(pb::ListPeriodEntriesRequest {
            start_time_ms: 5,
            end_time_ms: 5,
            start_index: 0,
        }))
        .await
        .unwrap_err();
    assert_eq!(empty.code(), Code::InvalidArgument);
    assert_eq!(reason(&empty), "AUDIT_RANGE_INVALID");
    let violations = empty.get_details_bad_request().unwrap().field_violations;
    assert_eq!(violations[0].field, "end_time_ms");
    let unknown = client
        .get_checkpoint(with_token(pb::GetCheckpointRequest { tree_size: 7 }))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    assert_eq!(reason(&unknown), "AUDIT_CHECKPOINT_NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auditor_and_terminal_credentials_open_only_their_own_services() {
    let running = running_switch().await;
    let checkpoint = || pb::GetCheckpointRequest { tree_size: 0 };
    let get_payment = || pb::GetPaymentRequest {
        merchant_order_id: "order-1".into(),
    };

    // A terminal key is no audit credential on the auditor listener ...
    let mut audit_at_auditor = AuditServiceClient::new(channel(running.auditor_addr).await);
    let refused = audit_at_auditor
        .get_checkpoint(with_terminal_key(checkpoint()))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert_eq!(reason(&refused), "AUDIT_CREDENTIALS_MISSING");
    // ... and the terminals' port has no AuditService at all, even for a valid terminal.
    let mut audit_at_terminal = AuditServiceClient::new(channel(running.terminal_addr).await);
    let absent = audit_at_terminal
        .get_checkpoint(with_terminal_key(checkpoint()))
        .await
        .unwrap_err();
    assert_eq!(absent.code(), Code::Unimplemented);
    let with_token_there = audit_at_terminal
        .get_checkpoint(with_token(checkpoint()))
        .await
        .unwrap_err();
    assert_eq!(with_token_there.code(), Code::Unimplemented);

    // An auditor token calls no merchant RPC: not on the auditor listener, which has no
    // AcceptanceService, nor on the terminals' port, which wants a terminal key.
    let mut merchant_at_auditor = AcceptanceServiceClient::new(channel(running.auditor_addr).await);
    let absent = merchant_at_auditor
        .get_payment(with_token(get_payment()))
        .await
        .unwrap_err();
    assert_eq!(absent.code(), Code::Unimplemented);
    let mut merchant_at_terminal =
        AcceptanceServiceClient::new(channel(running.terminal_addr).await);
    let refused = merchant_at_terminal
        .get_payment(with_token(get_payment()))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert_eq!(reason(&refused), "API_KEY_MISSING");

    // Each credential does work where it belongs.
    audit_at_auditor
        .get_checkpoint(with_token(checkpoint()))
        .await
        .unwrap();
    let not_found = merchant_at_terminal
        .get_payment(with_terminal_key(get_payment()))
        .await
        .unwrap_err();
    assert_eq!(not_found.code(), Code::NotFound);
}
