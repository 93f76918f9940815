//! Contract of the access methods of [`Store`] (issue 5: token administration, deleghe, audit
//! trail), on SQLite and on PostgreSQL (ignored by default: `.ci/run` runs it with
//! `--include-ignored`).

use cigo_domain::archivio::{ChiaviArchivio, ChiaviDeleghe};
use cigo_domain::{Ruolo, StatoRichiesta};
use cigo_store::postgres::PgStore;
use cigo_store::sqlite::SqliteStore;
use cigo_store::{CreateOutcome, NewAudit, NewRichiesta, Richiesta, Store, StoreError, TransitionRequest};
use sqlx::{Connection, Executor, PgConnection};
use std::sync::Arc;

/// The reads and writes these tests make, through the public methods of [`Store`].
trait Uso {
    /// A new richiesta.
    async fn create_richiesta(&self, new: NewRichiesta) -> Result<Richiesta, StoreError>;
    /// Of `matricole`, those `intermediario` holds a delega for, as [`Store::fatti_archivio`] loads them.
    async fn deleghe_held(&self, intermediario: &str, matricole: &[String]) -> Result<Vec<String>, StoreError>;
}

impl<S: Store + ?Sized> Uso for S {
    async fn create_richiesta(&self, new: NewRichiesta) -> Result<Richiesta, StoreError> {
        match self.create_richiesta_once(new, None).await? {
            CreateOutcome::Created(r) => Ok(r),
            other => panic!("not created: {other:?}"),
        }
    }
    async fn deleghe_held(&self, intermediario: &str, matricole: &[String]) -> Result<Vec<String>, StoreError> {
        let chiavi = ChiaviArchivio {
            deleghe: Some(ChiaviDeleghe { intermediario: intermediario.into(), matricole: matricole.to_vec() }),
            ..ChiaviArchivio::default()
        };
        Ok(self
            .fatti_archivio(&chiavi)
            .await?
            .deleghe
            .map(|d| d.matricole)
            .unwrap_or_default())
    }
}

async fn sqlite() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::connect(&format!("sqlite://{}", dir.path().join("cigo.db").display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    (Arc::new(store), dir)
}

fn pg_admin_url() -> String {
    std::env::var("CIGO_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

async fn pg() -> (Arc<dyn Store>, String) {
    let admin_url = pg_admin_url();
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .expect("PostgreSQL must be running");
    let name = format!("cigo_a_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let base = admin_url.rsplit_once('/').unwrap().0;
    let store = PgStore::connect(&format!("{base}/{name}"), 4)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    (Arc::new(store), name)
}

async fn drop_pg(name: &str) {
    if let Ok(mut admin) = PgConnection::connect(&pg_admin_url()).await {
        let _ = admin
            .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
            .await;
    }
}

async fn tokens(store: &Arc<dyn Store>) {
    let a = store
        .create_token("h1", "CFA", Some("uno"), Ruolo::Intermediario, None)
        .await
        .unwrap();
    let b = store
        .create_token("h2", "CFB", None, Ruolo::Operatore, None)
        .await
        .unwrap();
    let all = store.list_tokens(None).await.unwrap();
    assert_eq!(all.iter().map(|t| t.id).collect::<Vec<_>>(), vec![a.id, b.id]);
    assert_eq!(store.list_tokens(Some("CFB")).await.unwrap(), vec![b.clone()]);
    assert!(store.list_tokens(Some("CFX")).await.unwrap().is_empty());

    let revoked = store.revoke_token(a.id).await.unwrap().unwrap();
    let at = revoked.revoked_at.expect("revoked");
    // Revoking again keeps the first time.
    let again = store.revoke_token(a.id).await.unwrap().unwrap();
    assert_eq!(again.revoked_at, Some(at));
    assert_eq!(store.find_token("h1").await.unwrap().unwrap().revoked_at, Some(at));
    assert!(store
        .find_token("h2")
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_none());
    assert!(store.revoke_token(999).await.unwrap().is_none());
}

async fn deleghe(store: &Arc<dyn Store>) {
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    assert_eq!(
        store
            .add_deleghe(&pairs(&[("CFA", "1000000001"), ("CFA", "1000000002"), ("CFB", "1000000001")]))
            .await
            .unwrap(),
        3
    );
    // Already held: not counted, no error.
    assert_eq!(
        store
            .add_deleghe(&pairs(&[("CFA", "1000000001"), ("CFA", "1000000003")]))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.add_deleghe(&[]).await.unwrap(), 0);
    let a = store.list_deleghe(Some("CFA"), None).await.unwrap();
    assert_eq!(a.iter().map(|d| d.matricola.as_str()).collect::<Vec<_>>(), ["1000000001", "1000000002", "1000000003"]);
    let m1 = store.list_deleghe(None, Some("1000000001")).await.unwrap();
    assert_eq!(
        m1.iter()
            .map(|d| d.intermediario.as_str())
            .collect::<Vec<_>>(),
        ["CFA", "CFB"]
    );
    assert_eq!(store.list_deleghe(None, None).await.unwrap().len(), 4);

    let ask: Vec<String> = ["1000000003", "1000000009", "1000000001", "1000000001"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(store.deleghe_held("CFA", &ask).await.unwrap(), ["1000000001", "1000000003"]);
    assert_eq!(store.deleghe_held("CFB", &ask).await.unwrap(), ["1000000001"]);
    assert!(store.deleghe_held("CFZ", &ask).await.unwrap().is_empty());
    assert!(store.deleghe_held("CFA", &[]).await.unwrap().is_empty());
    // Many matricole in one query.
    let many: Vec<String> = (0..5000)
        .map(|i| format!("{:010}", 2_000_000_000u64 + i))
        .collect();
    assert!(store.deleghe_held("CFA", &many).await.unwrap().is_empty());

    assert!(store.remove_delega("CFA", "1000000001").await.unwrap());
    assert!(!store.remove_delega("CFA", "1000000001").await.unwrap());
    assert_eq!(store.deleghe_held("CFA", &ask).await.unwrap(), ["1000000003"]);
}

async fn audit(store: &Arc<dyn Store>) {
    let r = store
        .create_richiesta(NewRichiesta {
            intermediario: "CFA".into(),
            blob_key: "k".into(),
            sha256: "0".repeat(64),
            size_bytes: 1,
            prevalidazione: true,
            actor: "intermediario:CFA (token 1)".into(),
            trace_context: None,
            rinvio_di: None,
            nome_file: None,
        })
        .await
        .unwrap();
    let read = |action: &str, numero: Option<i64>| NewAudit {
        actor: "operatore:CFO (token 2)".into(),
        action: action.into(),
        numero_richiesta: numero,
        detail: None,
    };
    store
        .append_audit(read("lettura", Some(r.numero)))
        .await
        .unwrap();
    store.append_audit(read("ricerca", None)).await.unwrap();
    store
        .transition(TransitionRequest {
            numero: r.numero,
            from: StatoRichiesta::Ricevuta,
            to: StatoRichiesta::Eliminata,
            actor: "intermediario:CFA (token 1)".into(),
            nota: None,
            enqueue: None,
            trace_context: None,
        })
        .await
        .unwrap();
    store
        .append_audit(read("lettura_domande", Some(r.numero)))
        .await
        .unwrap();

    let page = store.list_audit(Some(r.numero), 1, 100).await.unwrap();
    let actions: Vec<(&str, Option<&str>)> = page
        .items
        .iter()
        .map(|e| (e.action.as_str(), e.detail.as_deref()))
        .collect();
    assert_eq!(
        actions,
        [
            ("transizione", Some("- -> RICEVUTA")),
            ("lettura", None),
            ("transizione", Some("RICEVUTA -> ELIMINATA")),
            ("lettura_domande", None),
        ]
    );
    assert_eq!(page.total, 4);
    assert!(page.items.windows(2).all(|w| w[0].at <= w[1].at));
    assert!(page
        .items
        .iter()
        .all(|e| e.numero_richiesta == Some(r.numero)));
    let all = store.list_audit(None, 1, 100).await.unwrap();
    assert_eq!(all.total, 5);
    let second = store.list_audit(None, 2, 2).await.unwrap();
    assert_eq!((second.items.len(), second.page, second.page_size), (2, 2, 2));
    assert_eq!(second.items[0], all.items[2]);
    assert!(store
        .list_audit(Some(999), 1, 10)
        .await
        .unwrap()
        .items
        .is_empty());
}

#[tokio::test]
async fn access_contract_sqlite() {
    let (store, _dir) = sqlite().await;
    tokens(&store).await;
    deleghe(&store).await;
    audit(&store).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL; run by .ci/run with --include-ignored"]
async fn access_contract_postgres() {
    let (store, name) = pg().await;
    tokens(&store).await;
    deleghe(&store).await;
    audit(&store).await;
    // Append-only, enforced by the database.
    let base = pg_admin_url().rsplit_once('/').unwrap().0.to_string();
    let mut conn = PgConnection::connect(&format!("{base}/{name}"))
        .await
        .unwrap();
    for table in ["audit", "transizioni"] {
        assert!(
            conn.execute(format!("UPDATE {table} SET actor = 'x'").as_str())
                .await
                .is_err(),
            "{table}"
        );
        assert!(
            conn.execute(format!("DELETE FROM {table}").as_str())
                .await
                .is_err(),
            "{table}"
        );
    }
    drop_pg(&name).await;
}
