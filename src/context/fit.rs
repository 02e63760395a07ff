//! Fits ranked candidates into the token budget, merging windows of one file.
//!
//! Candidates are taken by rank. A code range that overlaps or touches (gap of at most
//! [`MERGE_GAP`] lines) one already chosen in the same file extends it, and costs only the
//! difference; one that does not fit is tried at its narrow size, then dropped. The final
//! render is counted again and the lowest-ranked pieces go until it fits, since BPE counts
//! of joined text differ slightly from the sum of the parts.

use super::{Candidate, Context, Dropped, Files, Piece, PieceKind, Target};
use crate::llm::{Language, tokens};

/// Ranges this close in one file merge into one window.
pub const MERGE_GAP: u32 = 3;
/// Tokens kept back for the section headers.
const HEADER_RESERVE: usize = 8;

/// A chosen piece before rendering.
struct Sel {
    kind: PieceKind,
    rank: u32,
    why: String,
    path: Option<String>,
    range: Option<(u32, u32)>,
    text: String,
    tokens: usize,
}

pub(super) fn fit(mut candidates: Vec<Candidate>, files: &mut Files<'_>, budget: usize) -> Context {
    candidates.sort_by_key(|c| c.rank);
    let mut sels: Vec<Sel> = Vec::new();
    let mut dropped = Vec::new();
    let mut used = HEADER_RESERVE;
    for c in candidates {
        match &c.target {
            Target::Text(text) => {
                let t = tokens::count(text);
                if used + t <= budget {
                    used += t;
                    sels.push(Sel {
                        kind: c.kind,
                        rank: c.rank,
                        why: c.why,
                        path: None,
                        range: None,
                        text: text.clone(),
                        tokens: t,
                    });
                } else {
                    dropped.push(Dropped {
                        kind: c.kind,
                        path: None,
                        lines: None,
                        tokens: t,
                        why: c.why,
                    });
                }
            }
            Target::Lines {
                path,
                first,
                last,
                narrow,
            } => {
                let placed = place(
                    &mut sels,
                    files,
                    &c,
                    path,
                    (*first, *last),
                    budget,
                    &mut used,
                ) || (*narrow != (*first, *last)
                    && place(&mut sels, files, &c, path, *narrow, budget, &mut used));
                if !placed {
                    let t =
                        render_code(files, path, (*first, *last)).map_or(0, |s| tokens::count(&s));
                    dropped.push(Dropped {
                        kind: c.kind,
                        path: Some(path.clone()),
                        lines: Some((*first, *last)),
                        tokens: t,
                        why: c.why,
                    });
                }
            }
        }
    }
    finish(sels, dropped, budget)
}

/// Adds `range` of `path`, merging with chosen ranges it touches. False if it does not fit.
fn place(
    sels: &mut Vec<Sel>,
    files: &mut Files<'_>,
    c: &Candidate,
    path: &str,
    range: (u32, u32),
    budget: usize,
    used: &mut usize,
) -> bool {
    let touching: Vec<usize> = (0..sels.len())
        .filter(|&i| {
            sels[i].path.as_deref() == Some(path)
                && sels[i].range.is_some_and(|r| touches(r, range))
        })
        .collect();
    let union = touching
        .iter()
        .filter_map(|&i| sels[i].range)
        .fold(range, |a, b| (a.0.min(b.0), a.1.max(b.1)));
    let Some(text) = render_code(files, path, union) else {
        return false;
    };
    let t = tokens::count(&text);
    let freed: usize = touching.iter().map(|&i| sels[i].tokens).sum();
    if *used + t > budget + freed {
        return false;
    }
    *used = *used + t - freed;
    let best = touching
        .iter()
        .map(|&i| (sels[i].rank, sels[i].kind, sels[i].why.clone()))
        .min_by_key(|b| b.0);
    let (rank, kind, why) = match best {
        Some((r, k, w)) if r <= c.rank => (r, k, w),
        _ => (c.rank, c.kind, c.why.clone()),
    };
    for &i in touching.iter().rev() {
        sels.remove(i);
    }
    sels.push(Sel {
        kind,
        rank,
        why,
        path: Some(path.to_string()),
        range: Some(union),
        text,
        tokens: t,
    });
    true
}

fn touches(a: (u32, u32), b: (u32, u32)) -> bool {
    a.0 <= b.1 + MERGE_GAP && b.0 <= a.1 + MERGE_GAP
}

/// `path lines a-b:` then the numbered lines in a fence tagged with the language.
pub(super) fn render_code(
    files: &mut Files<'_>,
    path: &str,
    (first, last): (u32, u32),
) -> Option<String> {
    let lines = files.lines(path)?;
    let n = lines.len() as u32;
    let (first, last) = (first.max(1), last.min(n));
    if first > last {
        return None;
    }
    let whole = if first == 1 && last == n {
        " (whole file)"
    } else {
        ""
    };
    let fence = Language::from_path(path).map_or("", |l| l.fence());
    let width = last.to_string().len();
    let mut s = format!("{path} lines {first}-{last}{whole}:\n```{fence}\n");
    for (i, line) in lines[first as usize - 1..last as usize].iter().enumerate() {
        s.push_str(&format!("{:>width$}| {line}\n", first as usize + i));
    }
    s.push_str("```\n");
    Some(s)
}

/// Orders the pieces for rendering and drops the lowest-ranked until the render fits.
fn finish(sels: Vec<Sel>, mut dropped: Vec<Dropped>, budget: usize) -> Context {
    let mut pieces: Vec<Piece> = sels
        .into_iter()
        .map(|s| Piece {
            kind: s.kind,
            path: s.path,
            lines: s.range,
            text: s.text,
            tokens: s.tokens,
            rank: s.rank,
            why: s.why,
        })
        .collect();
    order_for_render(&mut pieces);
    let mut ctx = Context {
        pieces,
        budget,
        ..Context::default()
    };
    ctx.tokens = tokens::count(&ctx.render());
    while ctx.tokens > budget && !ctx.pieces.is_empty() {
        let worst = (0..ctx.pieces.len())
            .max_by_key(|&i| ctx.pieces[i].rank)
            .expect("non-empty");
        let p = ctx.pieces.remove(worst);
        dropped.push(Dropped {
            kind: p.kind,
            path: p.path,
            lines: p.lines,
            tokens: p.tokens,
            why: p.why,
        });
        ctx.tokens = tokens::count(&ctx.render());
    }
    ctx.dropped = dropped;
    ctx
}

/// Failures by rank; code grouped by file (files by their best rank), lines ascending.
fn order_for_render(pieces: &mut [Piece]) {
    let best = |path: &Option<String>, pieces: &[Piece]| {
        pieces
            .iter()
            .filter(|p| &p.path == path)
            .map(|p| p.rank)
            .min()
            .unwrap_or(u32::MAX)
    };
    let keys: Vec<(bool, u32, Option<String>, u32, u32)> = pieces
        .iter()
        .map(|p| {
            let is_code = p.kind != PieceKind::Failure;
            let file_rank = if is_code {
                best(&p.path, pieces)
            } else {
                p.rank
            };
            (
                is_code,
                file_rank,
                p.path.clone(),
                p.lines.map_or(0, |l| l.0),
                p.rank,
            )
        })
        .collect();
    let mut idx: Vec<usize> = (0..pieces.len()).collect();
    idx.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
    let sorted: Vec<Piece> = idx.iter().map(|&i| pieces[i].clone()).collect();
    pieces.clone_from_slice(&sorted);
}
