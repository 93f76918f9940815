//! The access decisions of the use cases, over the embedded store in a temp dir (no worker runs,
//! so a richiesta stays where a test puts it).

use super::*;
use crate::app::App;
use cigo_domain::{Ruolo, StatoRichiesta};
use cigo_store::TransitionRequest;

struct Fixture {
    service: Service,
    app: App,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let settings = crate::config::Settings { data_dir: data, ..Default::default() };
    let app = App::open(settings, true).await.unwrap();
    Fixture { service: Service::new(app.clone()), app, _dir: dir }
}

fn caller(intermediario: &str, ruolo: Ruolo) -> Caller {
    Caller { token_id: 7, intermediario: intermediario.into(), ruolo, emulazione: None }
}

fn intermediario(cf: &str) -> Caller {
    caller(cf, Ruolo::Intermediario)
}

async fn upload(f: &Fixture, who: &Caller, xml: &[u8], key: Option<&str>) -> Result<UploadOutcome, ServiceError> {
    let mut up = f.service.caricamento(who)?;
    let chunks = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::copy_from_slice(xml))]);
    up.receive(chunks).await?;
    up.finish(true, key.map(str::as_bytes)).await
}

/// A new richiesta of `who`, RICEVUTA.
async fn richiesta_of(f: &Fixture, who: &Caller, n: u32) -> Richiesta {
    match upload(f, who, format!("<richiesta n='{n}'/>").as_bytes(), None)
        .await
        .unwrap()
    {
        UploadOutcome::Created(r) => r,
        other => panic!("{other:?}"),
    }
}

/// Moves the richiesta along the state machine as a worker would.
async fn force(f: &Fixture, r: &Richiesta, path: &[StatoRichiesta]) {
    let mut from = r.stato;
    for &to in path {
        let req = TransitionRequest {
            numero: r.numero,
            from,
            to,
            actor: "test".into(),
            nota: None,
            enqueue: None,
            trace_context: None,
        };
        f.app.store.transition(req).await.unwrap();
        from = to;
    }
}

#[tokio::test]
async fn another_intermediarios_richiesta_is_not_found_like_a_missing_number() {
    let f = fixture().await;
    let (a, b) = (intermediario("AAAAAA80A01H501A"), intermediario("BBBBBB80A01H501B"));
    let r = richiesta_of(&f, &a, 1).await;
    let s = &f.service;
    assert!(matches!(s.richiesta(&b, r.numero).await, Err(ServiceError::RichiestaNotFound(n)) if n == r.numero));
    assert!(matches!(s.richiesta(&b, 999_999).await, Err(ServiceError::RichiestaNotFound(999_999))));
    assert!(matches!(s.domande(&b, r.numero, None, Paging::default()).await, Err(ServiceError::RichiestaNotFound(_))));
    assert!(matches!(s.transizioni(&b, r.numero).await, Err(ServiceError::RichiestaNotFound(_))));
    assert!(matches!(s.xml(&b, r.numero).await, Err(ServiceError::RichiestaNotFound(_))));
    assert!(matches!(s.attestato(&b, r.numero, "trasmissione").await, Err(ServiceError::RichiestaNotFound(_))));
    // Changes too: 404 before 403, the richiesta does not exist for b.
    assert!(matches!(s.elimina(&b, r.numero).await, Err(ServiceError::RichiestaNotFound(_))));
    assert!(matches!(s.approva(&b, r.numero).await, Err(ServiceError::RichiestaNotFound(_))));
    assert_eq!(s.ricerca(&b, Ricerca::default()).await.unwrap().total, 0);
    // The owner sees it, and its state did not move.
    assert_eq!(s.richiesta(&a, r.numero).await.unwrap().richiesta.stato, StatoRichiesta::Ricevuta);
    assert_eq!(s.ricerca(&a, Ricerca::default()).await.unwrap().total, 1);
    // Each probe of b left its trace for the admin (the missing number is no probe of anyone's).
    let admin = caller("DMNSTR80A01H501X", Ruolo::Admin);
    let trail = s
        .amministrazione(&admin)
        .unwrap()
        .audit_trail(Some(r.numero), Paging::default())
        .await
        .unwrap();
    let probes: Vec<_> = trail
        .items
        .iter()
        .filter(|e| e.action == "accesso_negato")
        .collect();
    assert_eq!(probes.len(), 7, "{:?}", trail.items);
    assert!(probes.iter().all(|e| e.actor == b.actor()), "{probes:?}");
}

#[tokio::test]
async fn a_flood_of_probes_is_recorded_within_bounds_and_counted() {
    let f = fixture().await;
    let (a, b) = (intermediario("AAAAAA80A01H501A"), intermediario("BBBBBB80A01H501B"));
    let r = richiesta_of(&f, &a, 1).await;
    for _ in 0..100 {
        assert!(f.service.richiesta(&b, r.numero).await.is_err());
    }
    let admin = caller("DMNSTR80A01H501X", Ruolo::Admin);
    let trail = f
        .service
        .amministrazione(&admin)
        .unwrap()
        .audit_trail(Some(r.numero), Paging::default())
        .await
        .unwrap();
    let probes = trail
        .items
        .iter()
        .filter(|e| e.action == "accesso_negato")
        .count();
    assert_eq!(probes, limits::PROBES_RECORDED_PER_WINDOW as usize, "{:?}", trail.items);
}

#[tokio::test]
async fn an_operatore_reads_everything_and_changes_nothing() {
    let f = fixture().await;
    let a = intermediario("AAAAAA80A01H501A");
    let op = caller("OPRTRE80A01H501O", Ruolo::Operatore);
    let r = richiesta_of(&f, &a, 1).await;
    force(&f, &r, &[StatoRichiesta::InElaborazione, StatoRichiesta::Prevalidata]).await;
    let s = &f.service;
    assert_eq!(s.richiesta(&op, r.numero).await.unwrap().richiesta.stato, StatoRichiesta::Prevalidata);
    assert_eq!(s.ricerca(&op, Ricerca::default()).await.unwrap().total, 1);
    assert!(matches!(s.approva(&op, r.numero).await, Err(ServiceError::Forbidden(_))));
    assert!(matches!(s.elimina(&op, r.numero).await, Err(ServiceError::Forbidden(_))));
    assert!(matches!(s.caricamento(&op), Err(ServiceError::Forbidden(_))));
    assert!(matches!(s.amministrazione(&op), Err(ServiceError::Forbidden(_))));
    assert_eq!(s.richiesta(&a, r.numero).await.unwrap().richiesta.stato, StatoRichiesta::Prevalidata);
    // The owner may approve, once; the attestato di trasmissione exists from then on.
    assert_eq!(s.approva(&a, r.numero).await.unwrap().stato, StatoRichiesta::Approvata);
    let again = s.approva(&a, r.numero).await;
    assert!(matches!(again, Err(ServiceError::InvalidState { stato: StatoRichiesta::Approvata, .. })), "{again:?}");
    assert_eq!(
        s.attestato(&op, r.numero, "trasmissione")
            .await
            .unwrap()
            .attestato
            .tipo(),
        "TRASMISSIONE"
    );
    let consegna = s.attestato(&op, r.numero, "consegna").await;
    assert!(matches!(consegna, Err(ServiceError::AttestatoNotAvailable { .. })), "{consegna:?}");
    assert!(matches!(s.attestato(&op, r.numero, "ricevuta").await, Err(ServiceError::NotFound)));
}

#[tokio::test]
async fn in_emulazione_an_operatore_sees_one_intermediario_read_only() {
    let f = fixture().await;
    let (a, b) = (intermediario("AAAAAA80A01H501A"), intermediario("BBBBBB80A01H501B"));
    let (ra, rb) = (richiesta_of(&f, &a, 1).await, richiesta_of(&f, &b, 2).await);
    let em = caller("OPRTRE80A01H501O", Ruolo::Operatore).in_emulazione(&a.intermediario);
    let s = &f.service;
    let found = s.ricerca(&em, Ricerca::default()).await.unwrap();
    assert_eq!(found.items.iter().map(|r| r.numero).collect::<Vec<_>>(), vec![ra.numero]);
    assert!(s.richiesta(&em, ra.numero).await.is_ok());
    assert!(matches!(s.richiesta(&em, rb.numero).await, Err(ServiceError::RichiestaNotFound(_))));
    assert!(matches!(s.elimina(&em, ra.numero).await, Err(ServiceError::Forbidden(_))));
    // Not even an intermediario's token in emulazione may change anything.
    let a_em = a.clone().in_emulazione(&a.intermediario);
    assert!(matches!(s.caricamento(&a_em), Err(ServiceError::Forbidden(_))));
}

#[tokio::test]
async fn reads_are_audited_and_the_trail_is_for_admins_only() {
    let f = fixture().await;
    let a = intermediario("AAAAAA80A01H501A");
    let admin = caller("DMNSTR80A01H501X", Ruolo::Admin);
    let r = richiesta_of(&f, &a, 1).await;
    let s = &f.service;
    assert!(matches!(s.amministrazione(&a), Err(ServiceError::Forbidden(_))));
    s.richiesta(&a, r.numero).await.unwrap();
    s.domande(&a, r.numero, None, Paging::default())
        .await
        .unwrap();
    s.elimina(&a, r.numero).await.unwrap();
    let trail = s
        .amministrazione(&admin)
        .unwrap()
        .audit_trail(Some(r.numero), Paging::default())
        .await
        .unwrap();
    let actions: Vec<&str> = trail.items.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"lettura") && actions.contains(&"lettura_domande"), "{actions:?}");
    assert!(trail.items.iter().any(|e| e.actor == a.actor()), "{:?}", trail.items);
    let bad = Paging { page: Some(0), page_size: None };
    let refused = s
        .amministrazione(&admin)
        .unwrap()
        .audit_trail(None, bad)
        .await;
    assert!(matches!(refused, Err(ServiceError::InvalidInput { code: "invalid_query", .. })), "{refused:?}");
}

#[tokio::test]
async fn uploads_are_deduplicated_and_replayed_by_idempotency_key() {
    let f = fixture().await;
    let a = intermediario("AAAAAA80A01H501A");
    let first = richiesta_of(&f, &a, 1).await;
    let dup = upload(&f, &a, b"<richiesta n='1'/>", None).await;
    assert!(matches!(dup, Err(ServiceError::Duplicate { numero, .. }) if numero == first.numero), "{dup:?}");
    // Another intermediario may send the same bytes.
    let b = intermediario("BBBBBB80A01H501B");
    assert!(matches!(upload(&f, &b, b"<richiesta n='1'/>", None).await, Ok(UploadOutcome::Created(_))));

    let Ok(UploadOutcome::Created(keyed)) = upload(&f, &a, b"<k/>", Some("key-1")).await else { panic!() };
    let replay = upload(&f, &a, b"<k/>", Some("key-1")).await;
    assert!(matches!(&replay, Ok(UploadOutcome::Replayed(r)) if r.numero == keyed.numero), "{replay:?}");
    let reused = upload(&f, &a, b"<other/>", Some("key-1")).await;
    assert!(matches!(reused, Err(ServiceError::IdempotencyKeyReused { numero }) if numero == keyed.numero));
    let bad_key = upload(&f, &a, b"<x/>", Some("with space")).await;
    assert!(matches!(bad_key, Err(ServiceError::InvalidInput { code: "invalid_idempotency_key", .. })));
    let empty = upload(&f, &a, b"", None).await;
    assert!(matches!(empty, Err(ServiceError::InvalidInput { code: "empty_body", .. })), "{empty:?}");
}

#[tokio::test]
async fn the_actions_offered_follow_the_state_and_the_role() {
    let f = fixture().await;
    let a = intermediario("AAAAAA80A01H501A");
    let r = richiesta_of(&f, &a, 1).await;
    assert_eq!(a.azioni(&r), vec![Azione::Elimina]);
    force(&f, &r, &[StatoRichiesta::InElaborazione, StatoRichiesta::Prevalidata]).await;
    let r = f.service.richiesta(&a, r.numero).await.unwrap().richiesta;
    assert_eq!(a.azioni(&r), vec![Azione::Approva, Azione::Elimina]);
    assert_eq!(Azione::ammesse(r.stato), vec![Azione::Approva, Azione::Elimina]);
    assert!(caller("OPRTRE80A01H501O", Ruolo::Operatore)
        .azioni(&r)
        .is_empty());
    assert!(intermediario("BBBBBB80A01H501B").azioni(&r).is_empty());
}

/// A token stored for `cf`, and its plain value (as the admin command prints it).
async fn token_of(f: &Fixture, cf: &str, ruolo: Ruolo) -> (String, cigo_store::TokenRecord) {
    let token = new_token();
    let record = f
        .app
        .store
        .create_token(&hash_token(&token), cf, None, ruolo, None)
        .await
        .unwrap();
    (token, record)
}

#[tokio::test]
async fn a_session_stands_for_its_token_until_signed_out_or_revoked() {
    let f = fixture().await;
    let s = &f.service;
    let (token, record) = token_of(&f, "AAAAAA80A01H501A", Ruolo::Intermediario).await;
    assert!(matches!(s.apri_sessione("cigo_nope").await, Err(ServiceError::Unauthorized)));

    let aperta = s.apri_sessione(&token).await.unwrap();
    assert_ne!(aperta.id, token, "the session id is not the token");
    let attiva = s.sessione(&aperta.id).await.unwrap();
    assert_eq!(attiva.caller.intermediario, "AAAAAA80A01H501A");
    assert_eq!(attiva.caller.token_id, record.id);
    assert!(attiva.csrf_ok(&aperta.attiva.csrf_token));
    assert!(!attiva.csrf_ok("forged"));
    assert!(matches!(s.sessione("not-a-session").await, Err(ServiceError::Unauthorized)));

    // Signed out: the cookie opens nothing any more.
    s.chiudi_sessione(&attiva).await.unwrap();
    assert!(matches!(s.sessione(&aperta.id).await, Err(ServiceError::Unauthorized)));

    // Revoking the token ends its sessions at their next request.
    let other = s.apri_sessione(&token).await.unwrap();
    assert!(s.sessione(&other.id).await.is_ok());
    f.app.store.revoke_token(record.id).await.unwrap();
    assert!(matches!(s.sessione(&other.id).await, Err(ServiceError::Unauthorized)));
    let stored = f
        .app
        .store
        .find_sessione(&hash_token(&other.id))
        .await
        .unwrap()
        .unwrap();
    assert!(stored.ended_at.is_some(), "the revoked token's session is ended");

    // Sign-in and sign-out are in the audit trail.
    let audit = f.app.store.list_audit(None, 1, 100).await.unwrap();
    let actions: Vec<_> = audit.items.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "accesso").count(), 2, "{actions:?}");
    assert_eq!(actions.iter().filter(|a| **a == "uscita").count(), 1, "{actions:?}");
}

#[tokio::test]
async fn a_bulk_action_touches_only_what_it_may_and_reports_each_failure() {
    use StatoRichiesta as S;
    let f = fixture().await;
    let (a, b) = (intermediario("AAAAAA80A01H501A"), intermediario("BBBBBB80A01H501B"));
    let mut prevalidate = Vec::new();
    for n in 1..=3 {
        let r = richiesta_of(&f, &a, n).await;
        force(&f, &r, &[S::InElaborazione, S::Prevalidata]).await;
        prevalidate.push(r.numero);
    }
    let ricevuta = richiesta_of(&f, &a, 4).await;
    let altrui = richiesta_of(&f, &b, 5).await;
    force(&f, &altrui, &[S::InElaborazione, S::Prevalidata]).await;
    let s = &f.service;

    // "All found": a's richieste that can be approved now, not the RICEVUTA one, not b's.
    let tutte = s
        .selezione(&a, Ricerca::default(), Azione::Approva)
        .await
        .unwrap();
    let mut numeri: Vec<i64> = tutte.iter().map(|r| r.numero).collect();
    numeri.sort();
    assert_eq!(numeri, prevalidate);

    // Selected: the three, one repeated, the RICEVUTA one and b's; each outcome on its own.
    let scelte = [prevalidate[0], prevalidate[1], prevalidate[1], ricevuta.numero, altrui.numero, prevalidate[2]];
    let esiti = s.su_molte(&a, Azione::Approva, &scelte).await.unwrap();
    let visti: Vec<(i64, bool)> = esiti.iter().map(|e| (e.numero, e.esito.is_ok())).collect();
    assert_eq!(
        visti,
        [
            (prevalidate[0], true),
            (prevalidate[1], true),
            (ricevuta.numero, false),
            (altrui.numero, false),
            (prevalidate[2], true)
        ]
    );
    assert!(matches!(esiti[2].esito, Err(ServiceError::InvalidState { stato: S::Ricevuta, .. })));
    assert!(matches!(esiti[3].esito, Err(ServiceError::RichiestaNotFound(_))));
    assert_eq!(
        s.richiesta(&b, altrui.numero)
            .await
            .unwrap()
            .richiesta
            .stato,
        S::Prevalidata
    );

    // An operatore changes nothing, in bulk too; more than the limit is refused whole.
    let operatore = caller("OPRTRE80A01H501O", Ruolo::Operatore);
    assert!(matches!(
        s.su_molte(&operatore, Azione::Elimina, &[altrui.numero])
            .await,
        Err(ServiceError::Forbidden(_))
    ));
    let troppe: Vec<i64> = (1..=(MAX_MASSIVA as i64 + 1)).collect();
    assert!(matches!(
        s.su_molte(&a, Azione::Elimina, &troppe).await,
        Err(ServiceError::InvalidInput { code: "troppe_richieste", .. })
    ));
}

#[tokio::test]
async fn the_cruscotto_is_for_the_aziende_of_the_intermediario() {
    let f = fixture().await;
    let a = intermediario("AAAAAA80A01H501A");
    let s = &f.service;
    assert!(matches!(s.cruscotto(&a, "12345").await, Err(ServiceError::InvalidInput { .. })));
    // No delega and no richiesta for it: as if it did not exist.
    assert!(matches!(s.cruscotto(&a, "7100000001").await, Err(ServiceError::NotFound)));
    f.app
        .store
        .add_deleghe(&[("AAAAAA80A01H501A".into(), "7100000001".into())])
        .await
        .unwrap();
    let c = s.cruscotto(&a, "7100000001").await.unwrap();
    assert!(c.unita.is_empty());
    // The operatore reads every azienda.
    assert!(s
        .cruscotto(&caller("OPRTRE80A01H501O", Ruolo::Operatore), "7200000002")
        .await
        .is_ok());
}

#[tokio::test]
async fn emulazione_is_for_operatori_and_a_cookie_can_only_narrow_a_view() {
    let f = fixture().await;
    let a = intermediario("AAAAAA80A01H501A");
    let operatore = caller("OPRTRE80A01H501O", Ruolo::Operatore);
    let s = &f.service;
    assert!(matches!(s.emulazione(&a, "BBBBBB80A01H501B").await, Err(ServiceError::Forbidden(_))));
    assert!(matches!(s.emulazione(&operatore, "x'; drop").await, Err(ServiceError::InvalidInput { .. })));
    let em = s.emulazione(&operatore, "aaaaaa80a01h501a").await.unwrap();
    assert_eq!(em.emulazione.as_deref(), Some("AAAAAA80A01H501A"));
    assert!(em.ensure_may_change().is_err());
    // The console's cookie: applied to an operatore, ignored for an intermediario.
    assert_eq!(a.clone().con_emulazione(Some("BBBBBB80A01H501B")).scope(), Some("AAAAAA80A01H501A"));
    assert_eq!(
        operatore
            .clone()
            .con_emulazione(Some("BBBBBB80A01H501B"))
            .scope(),
        Some("BBBBBB80A01H501B")
    );
    assert_eq!(operatore.con_emulazione(Some("non valido")).scope(), None);
}
