//! The rinvio of rejected domande: the file of a richiesta's rejected domande, cut from its
//! original file (`cigo_domain::rinvio`), and the link an upload of such a file makes to the
//! richiesta it came from.

use super::richieste::MAX_PAGE_SIZE;
use super::{Caller, Service, ServiceError};
use bytes::Bytes;
use cigo_domain::rinvio::{rinvio_di, scrivi_rinvio};
use cigo_domain::EsitoDomanda;
use cigo_store::Richiesta;
use futures::stream::BoxStream;
use futures::StreamExt;
use std::collections::BTreeSet;
use std::io::{self, Write};
use std::path::Path;
use tokio::sync::mpsc;

/// The file of the rejected domande of a richiesta, its bytes as they come.
pub struct FileScartate {
    pub richiesta: Richiesta,
    pub body: BoxStream<'static, io::Result<Bytes>>,
}

/// Bytes handed to the response in chunks of this size.
const CHUNK: usize = 64 * 1024;

/// A `Write` on a blocking thread that sends what it is given, in chunks, to an async receiver.
struct Sender {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl Sender {
    fn send(&mut self, item: io::Result<Bytes>) -> io::Result<()> {
        self.tx
            .blocking_send(item)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for Sender {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.send(Ok(chunk))
    }
}

impl Service {
    /// The domande of a richiesta rejected in prevalidazione or in fase d'invio, as a richiesta
    /// file to correct and upload again: the original bytes of each, in the original envelope,
    /// with `rinvioDi` naming this richiesta. Read like the original file;
    /// [`ServiceError::NessunaScartata`] while there is none.
    pub async fn scartate(&self, caller: &Caller, numero: i64) -> Result<FileScartate, ServiceError> {
        let richiesta = self.load(caller, numero).await?;
        super::con_i_dati(&richiesta)?;
        let scartate = self.progressivi_scartati(numero).await?;
        if scartate.is_empty() {
            return Err(ServiceError::NessunaScartata { numero, stato: richiesta.stato });
        }
        self.audit(caller, "download_scartate", Some(numero), Some(format!("domande: {}", scartate.len())))
            .await?;
        let original = self.app.blob.get(&richiesta.blob_key).await?;
        let reader = tokio_util::io::SyncIoBridge::new(tokio_util::io::StreamReader::new(original));
        let (tx, rx) = mpsc::channel(4);
        let expected = scartate.len();
        tokio::task::spawn_blocking(move || {
            let mut out = Sender { tx, buf: Vec::with_capacity(CHUNK) };
            let reader = io::BufReader::with_capacity(CHUNK, reader);
            let written = scrivi_rinvio(reader, numero, |p| scartate.contains(&p), &mut out);
            let failure = match written {
                Ok(n) if n as usize == expected => return,
                Ok(n) => format!("the original file has {n} of the {expected} rejected domande"),
                Err(e) => e.to_string(),
            };
            tracing::error!(numero, error = %failure, "cannot write the file of the rejected domande");
            let _ = out.send(Err(io::Error::other(failure)));
        });
        let body = futures::stream::unfold(rx, |mut rx| async { rx.recv().await.map(|item| (item, rx)) }).boxed();
        Ok(FileScartate { richiesta, body })
    }

    /// The progressivi of the domande rejected in prevalidazione or in fase d'invio.
    async fn progressivi_scartati(&self, numero: i64) -> Result<BTreeSet<u32>, ServiceError> {
        let mut out = BTreeSet::new();
        for esito in [EsitoDomanda::Scartata, EsitoDomanda::ScartataInInvio] {
            let mut page = 1;
            loop {
                let chunk = self
                    .app
                    .store
                    .list_domande(numero, Some(esito), page, MAX_PAGE_SIZE)
                    .await?;
                out.extend(
                    chunk
                        .items
                        .iter()
                        .filter_map(|d| u32::try_from(d.progressivo).ok()),
                );
                if chunk.items.len() < MAX_PAGE_SIZE as usize {
                    break;
                }
                page += 1;
            }
        }
        Ok(out)
    }

    /// The richiesta whose rejected domande the uploaded file at `path` sends again (its root's
    /// `rinvioDi`), once checked that the uploader may see it: `rinvio_non_valido` if not (the
    /// same answer for one that does not exist).
    pub(super) async fn rinvio_verificato(&self, caller: &Caller, path: &Path) -> Result<Option<i64>, ServiceError> {
        let path = path.to_path_buf();
        let found = tokio::task::spawn_blocking(move || {
            // The root comes first: a prolog of more than 1 MiB is no rinvio cigo wrote.
            let file = std::fs::File::open(path)?;
            Ok::<_, io::Error>(rinvio_di(io::BufReader::new(io::Read::take(file, 1 << 20))))
        })
        .await
        .map_err(ServiceError::internal)?
        .map_err(ServiceError::internal)?;
        let Some(n) = found else { return Ok(None) };
        match self.load(caller, n).await {
            Ok(_) => Ok(Some(n)),
            Err(ServiceError::RichiestaNotFound(_)) => Err(ServiceError::invalid(
                "rinvio_non_valido",
                format!(
                    "il file è il rinvio (rinvioDi) della richiesta {n}, che non esiste o non è dell'intermediario"
                ),
            )),
            Err(e) => Err(e),
        }
    }
}
