//! The esito of a richiesta as a file: CSV for a spreadsheet, XML for payroll programs (the
//! writers of `cigo-receipts`, the same ones `cigo validate --format csv` uses). The body is a
//! stream: the domande are read from the store one page at a time and each page is written and
//! handed to the adapter before the next is read, so the esito of 10,000 domande never sits in
//! memory.

use super::richieste::MAX_PAGE_SIZE;
use super::{Caller, Service, ServiceError};
use bytes::Bytes;
use cigo_domain::DomandaEsito;
use cigo_receipts::{EsitoCsv, EsitoXml};
use cigo_store::{DomandaRecord, Richiesta, Store};
use futures::stream::BoxStream;
use futures::StreamExt;
use std::io::{self, Write};
use std::sync::{Arc, Mutex};

/// The formats of the esito as a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatoEsito {
    /// UTF-8 with BOM, `;`, CRLF, dates GG/MM/AAAA: what Excel opens right with Italian settings.
    Csv,
    /// Namespace `urn:cigo:esito:1`, schema `cigo_receipts::ESITO_XSD_V1`.
    Xml,
}

impl FormatoEsito {
    pub fn as_str(self) -> &'static str {
        match self {
            FormatoEsito::Csv => "csv",
            FormatoEsito::Xml => "xml",
        }
    }
}

/// A file being written: the richiesta it is of, and its bytes as they come.
pub struct FileEsito {
    pub richiesta: Richiesta,
    pub body: BoxStream<'static, io::Result<Bytes>>,
}

/// What the writers write to: a buffer the stream empties after each page.
#[derive(Clone, Default)]
pub(super) struct Chunks(Arc<Mutex<Vec<u8>>>);

impl Chunks {
    /// What was written since the last call.
    pub(super) fn take(&self) -> Bytes {
        Bytes::from(std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner())))
    }
}

impl Write for Chunks {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

enum Writer {
    // Boxed: the CSV writer holds its buffer inline; one per response.
    Csv(Box<EsitoCsv<Chunks>>),
    Xml(EsitoXml<Chunks>),
}

impl Writer {
    fn new(formato: FormatoEsito, out: Chunks, r: &Richiesta) -> io::Result<Writer> {
        let mut w = match formato {
            FormatoEsito::Csv => Writer::Csv(Box::new(EsitoCsv::new(out, r.numero)?)),
            FormatoEsito::Xml => Writer::Xml(EsitoXml::new(out, r.numero)?),
        };
        if let Some(f) = &r.file_finding {
            match &mut w {
                Writer::Csv(w) => w.file_finding(f)?,
                Writer::Xml(w) => w.file_finding(f)?,
            }
        }
        Ok(w)
    }

    fn domanda(&mut self, d: &DomandaRecord) -> io::Result<()> {
        let esito = domanda_esito(d);
        match self {
            Writer::Csv(w) => w.domanda(&esito, d.protocollo.as_deref()),
            Writer::Xml(w) => w.domanda(&esito, d.protocollo.as_deref()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Writer::Csv(w) => w.flush(),
            Writer::Xml(w) => w.flush(),
        }
    }

    fn finish(self) -> io::Result<()> {
        match self {
            Writer::Csv(w) => w.finish().map(drop),
            Writer::Xml(w) => w.finish().map(drop),
        }
    }
}

/// A stored domanda as the writers take it (what prevalidation and sending said of it).
fn domanda_esito(d: &DomandaRecord) -> DomandaEsito {
    DomandaEsito {
        progressivo: u32::try_from(d.progressivo).unwrap_or(u32::MAX),
        matricola: d.matricola.clone(),
        codice_fiscale_azienda: d.codice_fiscale_azienda.clone(),
        denominazione: d.denominazione.clone(),
        unita_produttiva: d.unita_produttiva.clone(),
        periodo_dal: d.periodo_dal,
        periodo_al: d.periodo_al,
        esito: d.esito,
        findings: d.findings.clone(),
        archivio: None,
    }
}

/// Where the stream is: the next page to read, and the writer until the last page is written.
struct Pagine {
    store: Arc<dyn Store>,
    numero: i64,
    page: u32,
    writer: Option<Writer>,
    out: Chunks,
}

impl Pagine {
    /// Reads and writes the next page; the bytes written, or `None` once the file is complete.
    async fn next(mut self) -> io::Result<Option<(Bytes, Pagine)>> {
        let Some(mut writer) = self.writer.take() else { return Ok(None) };
        let page = self
            .store
            .list_domande(self.numero, None, self.page, MAX_PAGE_SIZE)
            .await
            .map_err(io::Error::other)?;
        for d in &page.items {
            writer.domanda(d)?;
        }
        if page.items.len() < MAX_PAGE_SIZE as usize {
            writer.finish()?;
        } else {
            writer.flush()?;
            self.writer = Some(writer);
            self.page += 1;
        }
        Ok(Some((self.out.take(), self)))
    }
}

impl Service {
    /// The esito of a richiesta as a file (one line or element per finding, and one per domanda
    /// without findings). Read like the domande: the owner, or an operatore or admin.
    pub async fn esito_file(
        &self,
        caller: &Caller,
        numero: i64,
        formato: FormatoEsito,
    ) -> Result<FileEsito, ServiceError> {
        let richiesta = self.load(caller, numero).await?;
        super::con_i_dati(&richiesta)?;
        self.audit(caller, "download_esito", Some(numero), Some(formato.as_str().to_string()))
            .await?;
        let out = Chunks::default();
        let writer = Writer::new(formato, out.clone(), &richiesta).map_err(ServiceError::internal)?;
        let pagine = Pagine { store: self.app.store.clone(), numero, page: 1, writer: Some(writer), out };
        let body = futures::stream::try_unfold(pagine, Pagine::next).boxed();
        Ok(FileEsito { richiesta, body })
    }
}
