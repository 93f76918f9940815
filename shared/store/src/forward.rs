//! What each backend declares alike, by macro: the types of the prelude of `both/`, and the one
//! `impl Store` forwarding each method to the backend's own method of the same name (written once,
//! in `both/`, in the file of its aggregate: `richieste.rs`, `outbox.rs`, `access.rs`,
//! `archivio.rs`, `attestati.rs`, `purga.rs`).

/// The types and pools the shared bodies of `both/` take from their backend (see `both/mod.rs`):
/// `backend_prelude!(store, database, connection, reader: field, writer: field)`, the fields
/// being the store's pools for reads and for writes.
macro_rules! backend_prelude {
    ($store:ident, $db:ty, $conn:ty, reader: $reader:ident, writer: $writer:ident) => {
        /// The store the shared bodies add their methods to (`impl Backend`).
        type Backend = $store;
        /// The database of the shared bodies' `QueryBuilder`s and transactions.
        type Db = $db;
        /// The connection the shared bodies' helpers run on (a transaction derefs to it).
        type Conn = $conn;

        impl $store {
            /// The pool of reads.
            fn reader(&self) -> &sqlx::Pool<$db> {
                &self.$reader
            }

            /// The pool of writes.
            fn writer(&self) -> &sqlx::Pool<$db> {
                &self.$writer
            }
        }
    };
}

pub(crate) use backend_prelude;

macro_rules! forward_store {
    ($ty:ty, $backend:literal) => {
        #[async_trait::async_trait]
        impl $crate::Store for $ty {
            fn backend(&self) -> &'static str {
                $backend
            }
            async fn migrate(&self) -> $crate::Result<()> {
                <$ty>::migrate(self).await
            }
            async fn ping(&self) -> $crate::Result<()> {
                <$ty>::ping(self).await
            }
            async fn probe_write(&self) -> $crate::Result<()> {
                <$ty>::probe_write(self).await
            }

            async fn create_richiesta_once(
                &self,
                new: $crate::NewRichiesta,
                idempotency_key: Option<&str>,
            ) -> $crate::Result<$crate::CreateOutcome> {
                <$ty>::create_richiesta_once(self, new, idempotency_key).await
            }
            async fn find_idempotency_key(
                &self,
                intermediario: &str,
                key: &str,
            ) -> $crate::Result<Option<$crate::Richiesta>> {
                <$ty>::find_idempotency_key(self, intermediario, key).await
            }
            async fn get_richiesta(&self, numero: i64) -> $crate::Result<Option<$crate::Richiesta>> {
                <$ty>::get_richiesta(self, numero).await
            }
            async fn blob_keys_inserted(
                &self,
                from: $crate::Timestamp,
                to: $crate::Timestamp,
            ) -> $crate::Result<Vec<String>> {
                <$ty>::blob_keys_inserted(self, from, to).await
            }
            async fn search_richieste(
                &self,
                filter: &$crate::RichiestaFilter,
            ) -> $crate::Result<$crate::Page<$crate::Richiesta>> {
                <$ty>::search_richieste(self, filter).await
            }
            async fn transizioni(&self, numero: i64) -> $crate::Result<Vec<$crate::Transizione>> {
                <$ty>::transizioni(self, numero).await
            }
            async fn transition(&self, req: $crate::TransitionRequest) -> $crate::Result<$crate::Richiesta> {
                <$ty>::transition(self, req).await
            }
            async fn save_esito(
                &self,
                numero: i64,
                esito: &cigo_domain::EsitoPrevalidazione,
                actor: &str,
                auto_approve: bool,
            ) -> $crate::Result<$crate::Richiesta> {
                <$ty>::save_esito(self, numero, esito, actor, auto_approve).await
            }
            async fn list_domande(
                &self,
                numero: i64,
                esito: Option<cigo_domain::EsitoDomanda>,
                page: u32,
                page_size: u32,
            ) -> $crate::Result<$crate::Page<$crate::DomandaRecord>> {
                <$ty>::list_domande(self, numero, esito, page, page_size).await
            }
            async fn complete_invio(
                &self,
                numero: i64,
                actor: &str,
                at: $crate::Timestamp,
                data_presentazione: chrono::NaiveDate,
            ) -> $crate::Result<$crate::Richiesta> {
                <$ty>::complete_invio(self, numero, actor, at, data_presentazione).await
            }

            async fn candidati_purga(
                &self,
                criterio: &$crate::CriterioPurga,
                dopo: i64,
                limit: i64,
            ) -> $crate::Result<Vec<$crate::CandidatoPurga>> {
                <$ty>::candidati_purga(self, criterio, dopo, limit).await
            }
            async fn purga_richiesta(
                &self,
                numero: i64,
                criterio: &$crate::CriterioPurga,
                actor: &str,
            ) -> $crate::Result<Option<$crate::PurgaEseguita>> {
                <$ty>::purga_richiesta(self, numero, criterio, actor).await
            }
            async fn blob_keys_purgati(
                &self,
                from: $crate::Timestamp,
                to: $crate::Timestamp,
            ) -> $crate::Result<Vec<String>> {
                <$ty>::blob_keys_purgati(self, from, to).await
            }

            async fn lease_outbox(
                &self,
                limit: i64,
                lease: std::time::Duration,
            ) -> $crate::Result<Vec<$crate::OutboxMessage>> {
                <$ty>::lease_outbox(self, limit, lease).await
            }
            async fn mark_published(&self, ids: &[i64]) -> $crate::Result<()> {
                <$ty>::mark_published(self, ids).await
            }
            async fn release_outbox(&self, ids: &[i64]) -> $crate::Result<()> {
                <$ty>::release_outbox(self, ids).await
            }
            async fn trace_context_of(&self, numero: i64) -> $crate::Result<Option<String>> {
                <$ty>::trace_context_of(self, numero).await
            }
            async fn release_all_outbox_leases(&self) -> $crate::Result<u64> {
                <$ty>::release_all_outbox_leases(self).await
            }
            async fn requeue_stale(&self, older_than: std::time::Duration) -> $crate::Result<u64> {
                <$ty>::requeue_stale(self, older_than).await
            }
            async fn set_errore_elaborazione(
                &self,
                numero: i64,
                kind: cigo_domain::JobKind,
                errore: &str,
                tentativi: i32,
            ) -> $crate::Result<()> {
                <$ty>::set_errore_elaborazione(self, numero, kind, errore, tentativi).await
            }
            async fn errore_elaborazione(&self, numero: i64) -> $crate::Result<Option<$crate::ErroreElaborazione>> {
                <$ty>::errore_elaborazione(self, numero).await
            }
            async fn list_errori_elaborazione(&self, limit: i64) -> $crate::Result<Vec<$crate::ErroreElaborazione>> {
                <$ty>::list_errori_elaborazione(self, limit).await
            }
            async fn replay_job(&self, numero: i64, kind: cigo_domain::JobKind) -> $crate::Result<()> {
                <$ty>::replay_job(self, numero, kind).await
            }
            async fn sla_stats(
                &self,
                bound: std::time::Duration,
                window: std::time::Duration,
            ) -> $crate::Result<$crate::SlaStats> {
                <$ty>::sla_stats(self, bound, window).await
            }

            async fn create_token(
                &self,
                token_hash: &str,
                intermediario: &str,
                nome: Option<&str>,
                ruolo: cigo_domain::Ruolo,
                expires_at: Option<$crate::Timestamp>,
            ) -> $crate::Result<$crate::TokenRecord> {
                <$ty>::create_token(self, token_hash, intermediario, nome, ruolo, expires_at).await
            }
            async fn find_token(&self, token_hash: &str) -> $crate::Result<Option<$crate::TokenRecord>> {
                <$ty>::find_token(self, token_hash).await
            }
            async fn get_token(&self, id: i64) -> $crate::Result<Option<$crate::TokenRecord>> {
                <$ty>::get_token(self, id).await
            }
            async fn list_tokens(&self, intermediario: Option<&str>) -> $crate::Result<Vec<$crate::TokenRecord>> {
                <$ty>::list_tokens(self, intermediario).await
            }
            async fn revoke_token(&self, id: i64) -> $crate::Result<Option<$crate::TokenRecord>> {
                <$ty>::revoke_token(self, id).await
            }
            async fn create_sessione(&self, nuova: $crate::NuovaSessione) -> $crate::Result<$crate::Sessione> {
                <$ty>::create_sessione(self, nuova).await
            }
            async fn find_sessione(&self, session_hash: &str) -> $crate::Result<Option<$crate::Sessione>> {
                <$ty>::find_sessione(self, session_hash).await
            }
            async fn end_sessione(&self, id: i64) -> $crate::Result<bool> {
                <$ty>::end_sessione(self, id).await
            }
            async fn add_deleghe(&self, deleghe: &[(String, String)]) -> $crate::Result<u64> {
                <$ty>::add_deleghe(self, deleghe).await
            }
            async fn remove_delega(&self, intermediario: &str, matricola: &str) -> $crate::Result<bool> {
                <$ty>::remove_delega(self, intermediario, matricola).await
            }
            async fn list_deleghe(
                &self,
                intermediario: Option<&str>,
                matricola: Option<&str>,
            ) -> $crate::Result<Vec<$crate::Delega>> {
                <$ty>::list_deleghe(self, intermediario, matricola).await
            }
            async fn append_audit(&self, entry: $crate::NewAudit) -> $crate::Result<()> {
                <$ty>::append_audit(self, entry).await
            }
            async fn list_audit(
                &self,
                numero: Option<i64>,
                page: u32,
                page_size: u32,
            ) -> $crate::Result<$crate::Page<$crate::AuditEntry>> {
                <$ty>::list_audit(self, numero, page, page_size).await
            }

            async fn fatti_archivio(
                &self,
                chiavi: &cigo_domain::archivio::ChiaviArchivio,
            ) -> $crate::Result<cigo_domain::archivio::FattiArchivio> {
                <$ty>::fatti_archivio(self, chiavi).await
            }
            async fn unita_protocollate(&self, matricola: &str) -> $crate::Result<Vec<$crate::UnitaProtocollata>> {
                <$ty>::unita_protocollate(self, matricola).await
            }
            async fn import_autorizzazioni(&self, rows: &[$crate::PeriodoArchivio]) -> $crate::Result<u64> {
                <$ty>::import_autorizzazioni(self, rows).await
            }
            async fn import_rapporti(&self, rows: &[$crate::RapportoLavoro]) -> $crate::Result<u64> {
                <$ty>::import_rapporti(self, rows).await
            }

            async fn issue_attestato(&self, new: &$crate::NuovoAttestato) -> $crate::Result<$crate::AttestatoRecord> {
                <$ty>::issue_attestato(self, new).await
            }
            async fn attestato_di(&self, numero: i64, tipo: &str) -> $crate::Result<Option<$crate::AttestatoRecord>> {
                <$ty>::attestato_di(self, numero, tipo).await
            }
            async fn attestato_per_codice(&self, codice: &str) -> $crate::Result<Option<$crate::AttestatoRecord>> {
                <$ty>::attestato_per_codice(self, codice).await
            }
        }
    };
}

pub(crate) use forward_store;
