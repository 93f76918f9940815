//! The names of the elements of the tracciato, and their lookup from the bytes of a name.

use std::sync::OnceLock;

/// Names of the elements of the tracciato (a new element of the XSD is added here).
macro_rules! tags {
    ($($t:ident),+ $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Tag {
            $($t,)+
            /// Any other name, or a known name in another namespace.
            Unknown,
        }
        impl Tag {
            /// The tag of a local name (only names of our namespace should be passed).
            pub fn from_local(name: &[u8]) -> Tag {
                static TABLE: OnceLock<TagTable> = OnceLock::new();
                TABLE.get_or_init(|| TagTable::new(&[$((stringify!($t), Tag::$t)),+])).get(name)
            }
            /// The element name as written in the XML.
            pub fn name(self) -> &'static str {
                match self { $(Tag::$t => stringify!($t),)+ Tag::Unknown => "?" }
            }
            /// Every known tag.
            pub const ALL: &'static [Tag] = &[$(Tag::$t),+];
        }
    };
}

tags!(
    Domanda,
    TipoDomanda,
    QuadroA,
    Matricola,
    CodiceFiscale,
    Denominazione,
    Indirizzo,
    Comune,
    Provincia,
    Cap,
    Attivita,
    DataInizioAttivita,
    LavoratoriInForza,
    Settore,
    CodiceUnitaProduttiva,
    OccupatiSemestre,
    Fascia,
    OreSettimanali,
    MediaLavoratori,
    QuadroB,
    QuadroC,
    PeriodoDal,
    PeriodoAl,
    NumeroSettimane,
    TotaleOreCIG,
    Causale,
    DescrizioneCausale,
    ConsultazioneSindacale,
    QuadroE,
    Riga,
    InForza,
    Sospesi,
    OrarioRidotto,
    TotaleInCIG,
    Lavoratori,
    Lavoratore,
    Cognome,
    Nome,
    Qualifica,
    TipoOrario,
    OreSettimanaliContrattuali,
    OreCIG,
    Telefono,
    Cellulare,
    Email,
    Fax,
    Cantiere,
    GenereAttivita,
    FaseLavorativa,
    Mansione,
    Numero,
    Descrizione,
    LuogoLavori,
    QuadroD,
    Ripresa,
    DataRipresa,
    QuadroF,
    Qualita,
    DataDichiarazione,
    QuadroG,
    OrarioContrattuale,
    Ore,
    Minuti,
    Giorni,
    Settimana,
    OreCIGRichieste,
    QuadroH,
    Giorno,
    OreOrdinarie,
    OreStraordinarie,
    OreAltro,
    TotaleOre,
    CodiceEvento,
    DescrizioneEvento,
    QuadroI,
    Reparto,
    InteressatoCIG,
    AddettiOperai,
    AddettiImpiegati,
    InteressatiOperai,
    InteressatiImpiegati,
    AssuntiUltimi3Mesi,
    LicenziatiUltimi3Mesi,
    LicenziamentiPrevisti,
    MotivoLicenziamenti,
    QuadroL,
    FerieAnnoPrecedente,
    FerieAnnoInCorso,
    FerieAggiuntive,
    RiposiCompensativi,
    PermessiRetribuiti,
    PeriodoFerie,
    Dal,
    Al,
    FissatoIn,
    QuadroM,
    ModalitaComunicazione,
    DataComunicazione,
    DataConsultazione,
    MotiviMancataConsultazione,
    QuadroN,
    ConTuttiILavoratori,
    OperaiSospesi,
    OperaiOrarioRidotto,
    ImpiegatiSospesi,
    ImpiegatiOrarioRidotto,
    CantiereRipresa,
    QuadroO,
    DataRipresaPrevista,
    NumeroLavoratori,
    UnitaRipresa,
    ElementiGiustificativi,
    QuadroP,
    MotiviProroga,
    QuadroQ,
    ContrattoInserimento,
    DataApprovazione,
    DataAssunzione,
    DurataMesi,
    OreAddestramento,
    OreAddestramentoEsaurite,
    QuadroR,
    CIGSPresentata,
    CausaleCIGS,
    Reparti,
    QuadroS,
    Procedura,
    TipoProcedura,
    Data,
    QuadroT,
    DichiarazioneResa,
    RelazioneTecnica,
    DataEvento,
    CommesseInCorso,
    OrdiniInPortafoglio,
    Macchinario,
    Fornitore,
    BollettinoMeteo,
    ProvvedimentoAutorita,
    IndicatoriEconomici,
    Indicatore,
    Fatturato,
    Ordinativi,
    OreLavorate,
    Dipendenti,
    Iban,
);

/// Element names hashed on (length, first, middle and last byte) into small buckets: a lookup is
/// a hash and one or two comparisons instead of a scan over every name.
struct TagTable {
    buckets: Vec<Vec<(&'static [u8], Tag)>>,
}

const TAG_BUCKETS: usize = 1024;

impl TagTable {
    fn new(names: &[(&'static str, Tag)]) -> TagTable {
        let mut buckets = vec![Vec::new(); TAG_BUCKETS];
        for &(n, t) in names {
            buckets[Self::hash(n.as_bytes())].push((n.as_bytes(), t));
        }
        TagTable { buckets }
    }

    #[inline]
    fn hash(n: &[u8]) -> usize {
        match n {
            [] => 0,
            [first, .., last] | [first @ last] => {
                let h = (n.len() as u32)
                    .wrapping_mul(31)
                    .wrapping_add(*first as u32)
                    .wrapping_mul(31)
                    .wrapping_add(n[n.len() / 2] as u32)
                    .wrapping_mul(31)
                    .wrapping_add(*last as u32);
                (h.wrapping_mul(2_654_435_761) >> 16) as usize % TAG_BUCKETS
            }
        }
    }

    #[inline]
    fn get(&self, name: &[u8]) -> Tag {
        self.buckets[Self::hash(name)]
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(Tag::Unknown, |&(_, t)| t)
    }
}
