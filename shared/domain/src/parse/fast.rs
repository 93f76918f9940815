//! The fast path: reads one whole `<Domanda>` from the look-ahead window into the tree, exactly
//! as the quick-xml loop of [`super::stream`] would (same nodes, texts, attributes, positions), but
//! without quick-xml's per-event copying and bookkeeping. Most domande are written the same plain
//! way (unprefixed ASCII names, quoted attributes, no comments, CDATA, namespace declarations or
//! limits in sight); anything else makes it give up (before anything is consumed or reported) and
//! quick-xml reads the domanda, so that every finding, in particular every file-level error with
//! quick-xml's own message, stays the same.

use super::reader::Lines;
use super::tag::Tag;
use super::text::{is_ws, text_of};
use super::tree::{append_text, open_child, store_attr, NodeId, Tree, NONE};
use crate::limits::Limits;

/// Why the fast path did not read a domanda (one byte, so that its steps' results stay small).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    /// The window ends before the domanda does.
    NeedMore,
    /// Something the fast path does not read: quick-xml reads this domanda.
    GiveUp,
}

use Stop::{GiveUp, NeedMore};

/// Where quick-xml stands when the fast path starts, and must stand again when it is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// After an end tag, inside text: the window may start with white space before `<Domanda`,
    /// and ends right after `</Domanda>`.
    InText,
    /// After a text, before the `<` of the next markup (not consumed yet): the window starts at
    /// `<Domanda`, and ends before the `<` that follows `</Domanda>` and the white space after it
    /// (a text event that says nothing).
    BeforeMarkup,
}

/// Reusable buffers of the fast path.
#[derive(Default)]
pub(super) struct Scratch {
    /// Ranges in the window of the names of the open elements.
    open: Vec<(usize, usize)>,
    /// Ranges in the window of (name, value) of the attributes of a start tag.
    attrs: Vec<(usize, usize, usize, usize)>,
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}

fn is_ws_byte(c: &u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

/// Everything the fast path needs besides the window and the tree.
pub(super) struct FastCx<'a> {
    pub limits: &'a Limits,
    /// Unprefixed names are in our namespace.
    pub ns_ok: bool,
    /// Domande read so far.
    pub n_domande: u32,
    /// The longest markup or text the fast path reads: shorter than half the event budget of
    /// [`super::reader::CountingReader`], so that quick-xml would not have hit it either.
    pub max_token: usize,
}

/// One start tag as written: its name is `w[at..name_end]`, its attributes are in
/// [`Scratch::attrs`], `w[close]` is its `>` (or the `/` of `/>`).
struct StartTag {
    name_end: usize,
    close: usize,
    empty: bool,
}

/// Reads one domanda from `w` (stream offset `base`) into `tree`; see [`Mode`] for where the
/// window starts and ends. Returns the bytes of the window to consume.
pub(super) fn fast_domanda(
    w: &[u8],
    base: u64,
    mode: Mode,
    lines: &mut Lines<'_>,
    tree: &mut Tree,
    scratch: &mut Scratch,
    cx: &FastCx<'_>,
) -> Result<usize, Stop> {
    let limits = cx.limits;
    if !cx.ns_ok || limits.max_depth < 2 || cx.n_domande as usize >= limits.max_domande {
        return Err(GiveUp);
    }
    // White space before `<Domanda`: quick-xml's text event between domande, which says nothing.
    let lt = skip_ws(w, 0, cx)?;
    // `i` is always just after a `<`.
    let mut i = lt + 1;
    scratch.open.clear();
    let mut cur = NONE;
    let mut depth = 1usize;
    loop {
        let Some(&c) = w.get(i) else { return Err(NeedMore) };
        if c == b'/' {
            i = end_tag(w, i, scratch)?;
            depth -= 1;
            cur = tree.node(cur).parent;
        } else {
            let tag = start_tag(w, i, scratch, cx)?;
            let qname = &w[i..tag.name_end];
            if cur == NONE {
                if qname != b"Domanda" || depth != 1 {
                    return Err(GiveUp);
                }
                tree.clear();
                depth = 2;
            } else {
                depth += 1;
                if depth > limits.max_depth || tree.len() >= limits.max_elements_per_domanda {
                    return Err(GiveUp);
                }
            }
            // As quick-xml reports a start tag: at its `<`.
            let pos = lines.at(base + (i - 1) as u64);
            cur = open_element(w, qname, cur, pos, tree, scratch)?;
            if tag.empty {
                // `<a/>`: quick-xml gives a start and an end event.
                depth -= 1;
                cur = tree.node(cur).parent;
                i = tag.close + 2;
            } else {
                scratch.open.push((i, tag.name_end));
                i = tag.close + 1;
            }
        }
        if cur == NONE {
            // `</Domanda>` read: give quick-xml back the state it would be in.
            return match mode {
                Mode::InText => Ok(i),
                Mode::BeforeMarkup => skip_ws(w, i, cx),
            };
        }
        i = text(w, i, cur, tree, cx)?;
    }
}

/// The index of the `<` after the white space from `at`, which must not be longer than a token.
fn skip_ws(w: &[u8], at: usize, cx: &FastCx<'_>) -> Result<usize, Stop> {
    let Some(k) = w[at..].iter().position(|c| !is_ws_byte(c)) else {
        return Err(if w.len() - at > cx.max_token { GiveUp } else { NeedMore });
    };
    if w[at + k] != b'<' || k > cx.max_token {
        return Err(GiveUp);
    }
    Ok(at + k)
}

/// An end tag at `w[i]` (its `/`): exactly `</name>` of the open element. Returns the index after it.
#[inline]
fn end_tag(w: &[u8], i: usize, scratch: &mut Scratch) -> Result<usize, Stop> {
    let Some(&(a, b)) = scratch.open.last() else { return Err(GiveUp) };
    let e = i + 1 + (b - a);
    if w.len() <= e {
        return Err(NeedMore);
    }
    if w[i + 1..e] != w[a..b] || w[e] != b'>' {
        return Err(GiveUp);
    }
    scratch.open.pop();
    Ok(e + 1)
}

/// A start tag at `w[i]` (the first byte of its name): the name, then attributes `name="value"`
/// (or '...') separated by white space. Namespace declarations and repeated attributes are left
/// to quick-xml (its namespace scopes look for `xmlns` anywhere in the attributes).
#[inline]
fn start_tag(w: &[u8], i: usize, scratch: &mut Scratch, cx: &FastCx<'_>) -> Result<StartTag, Stop> {
    if !is_name_start(w[i]) {
        return Err(GiveUp);
    }
    let mut j = i + 1;
    while j < w.len() && is_name_char(w[j]) {
        j += 1;
    }
    let name_end = j;
    scratch.attrs.clear();
    let mut sep = false;
    let (close, empty) = loop {
        let Some(&c) = w.get(j) else { return Err(NeedMore) };
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                sep = true;
                j += 1;
            }
            b'>' => break (j, false),
            b'/' => match w.get(j + 1) {
                None => return Err(NeedMore),
                Some(b'>') => break (j, true),
                Some(_) => return Err(GiveUp),
            },
            c if sep && is_name_start(c) => {
                j = attribute(w, j, scratch)?;
                sep = false;
            }
            _ => return Err(GiveUp),
        }
        if j + 1 - i > cx.max_token {
            return Err(GiveUp);
        }
    };
    // Also a long name with no attribute (the loop above breaks before its check).
    if close + 2 - i > cx.max_token {
        return Err(GiveUp);
    }
    if w[name_end..close].windows(5).any(|x| x == b"xmlns") {
        return Err(GiveUp);
    }
    let attrs = &scratch.attrs;
    if attrs.len() > 1
        && attrs
            .iter()
            .enumerate()
            .any(|(k, a)| attrs[..k].iter().any(|b| w[a.0..a.1] == w[b.0..b.1]))
    {
        return Err(GiveUp);
    }
    Ok(StartTag { name_end, close, empty })
}

/// One attribute `name="value"` at `w[j]`, recorded in [`Scratch::attrs`]. Returns the index
/// after its closing quote.
#[inline]
fn attribute(w: &[u8], mut j: usize, scratch: &mut Scratch) -> Result<usize, Stop> {
    let ka = j;
    j += 1;
    while j < w.len() && is_name_char(w[j]) {
        j += 1;
    }
    let kb = j;
    match w.get(j) {
        None => return Err(NeedMore),
        Some(b'=') => j += 1,
        Some(_) => return Err(GiveUp),
    }
    let q = match w.get(j) {
        None => return Err(NeedMore),
        Some(&q) if q == b'"' || q == b'\'' => q,
        Some(_) => return Err(GiveUp),
    };
    let va = j + 1;
    let Some(len) = w[va..].iter().position(|&c| c == q) else { return Err(NeedMore) };
    let vb = va + len;
    if w[va..vb].iter().any(|&c| c == b'<' || c == b'>') {
        return Err(GiveUp);
    }
    scratch.attrs.push((ka, kb, va, vb));
    Ok(vb + 1)
}

/// Pushes the element of a start tag (the `Domanda` itself when `cur` is [`NONE`]) with its
/// attributes.
#[inline]
fn open_element(
    w: &[u8],
    qname: &[u8],
    cur: NodeId,
    pos: (u32, u32),
    tree: &mut Tree,
    scratch: &Scratch,
) -> Result<NodeId, Stop> {
    let id = if cur == NONE {
        tree.push(NONE, Tag::Domanda, pos.0, pos.1)
    } else {
        let tag = Tag::from_local(qname);
        // The name is stored only for an unknown element (ASCII by construction).
        let qname_str = if tag == Tag::Unknown { std::str::from_utf8(qname).unwrap_or("") } else { "" };
        open_child(tree, cur, tag, qname_str, pos)
    };
    for &(ka, kb, va, vb) in &scratch.attrs {
        if store_attr(tree, &w[ka..kb], &w[va..vb], pos).is_err() {
            return Err(GiveUp);
        }
    }
    tree.nodes[id as usize].attrs.1 = tree.attrs.len() as u32;
    Ok(id)
}

/// The text from `w[i]` up to the next markup, as a text event of quick-xml (which gives none
/// for an empty text). Returns the index after the `<` of that markup.
#[inline]
fn text(w: &[u8], i: usize, cur: NodeId, tree: &mut Tree, cx: &FastCx<'_>) -> Result<usize, Stop> {
    let Some(k) = w[i..].iter().position(|&c| c == b'<') else {
        return Err(if w.len() - i > cx.max_token { GiveUp } else { NeedMore });
    };
    if k > cx.max_token {
        return Err(GiveUp);
    }
    let raw = &w[i..i + k];
    if k > 0 && !(tree.node(cur).first_child != NONE && is_ws(raw)) {
        let Ok(s) = text_of(raw, (0, 0)) else { return Err(GiveUp) };
        if append_text(tree, cur, &s, cx.limits, (0, 0)).is_err() {
            return Err(GiveUp);
        }
    }
    Ok(i + k + 1)
}
