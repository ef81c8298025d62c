//! Training metrics: an append-only CSV log that survives resuming from a checkpoint, an SVG
//! plot of it, and an atomic file write shared with checkpointing.
//!
//! `metrics.csv` lives in the run directory. Its first column is always `step`; the others are
//! fixed when the log is opened. Values are written with Rust's shortest round-trip formatting,
//! so reading the file back gives the same `f64`s; an empty field means "not logged at this
//! step".
//!
//! Resuming from a checkpoint taken at step `s` keeps the rows with `step <= s` and drops the
//! later ones: they describe training that the checkpoint does not contain and will be redone.

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// File name of the log inside a run directory.
pub const METRICS_FILE: &str = "metrics.csv";

/// Name of the first column, always present.
pub const STEP_COLUMN: &str = "step";

fn invalid_input(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

fn invalid_data(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// Writes `bytes` to `path` so that readers see either the old file or the new one, never a
/// mix: the bytes go to a temporary file in the same directory, which is synced and then renamed
/// over `path`; on unix the directory is synced too so the rename itself is durable. On error
/// the temporary file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);

    let file_name = path.file_name().ok_or_else(|| {
        invalid_input(format!("write_atomic: {} has no file name", path.display()))
    })?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!(".tmp.{}.{}", std::process::id(), unique));
    let tmp = dir.join(tmp_name);

    let result = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(&dir)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    match File::open(dir).and_then(|d| d.sync_all()) {
        Ok(()) => Ok(()),
        // Some file systems cannot sync a directory; the data itself is already synced.
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(e),
    }
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// Append-only CSV log of training metrics, one row per logged step.
#[derive(Debug)]
pub struct MetricsLog {
    path: PathBuf,
    /// All column names, `step` first.
    columns: Vec<String>,
    file: File,
}

impl MetricsLog {
    /// Opens `dir/metrics.csv` (creating `dir` if needed) with the columns `step` followed by
    /// `columns`.
    ///
    /// * `resume_step = None`: a fresh run; any existing file is replaced by just the header.
    /// * `resume_step = Some(s)`: resuming from a checkpoint at step `s`; existing rows with
    ///   `step <= s` are kept and later rows (and a torn last line) are dropped, rewriting the
    ///   file atomically. A missing or empty file is started fresh. If the existing header is not
    ///   exactly `step,<columns>`, this fails with an error naming both headers.
    ///
    /// Column names must be non-empty, unique, not `step`, and free of `,`, `"` and line breaks.
    pub fn open(dir: &Path, columns: &[&str], resume_step: Option<u64>) -> io::Result<MetricsLog> {
        let mut all = Vec::with_capacity(columns.len() + 1);
        all.push(STEP_COLUMN.to_string());
        for &c in columns {
            if c.is_empty() || c.contains([',', '"', '\n', '\r']) || c.trim() != c {
                return Err(invalid_input(format!("metrics: invalid column name {c:?}")));
            }
            if all.iter().any(|a| a == c) {
                return Err(invalid_input(format!(
                    "metrics: column {c:?} given twice (or clashes with the implicit `step`)"
                )));
            }
            all.push(c.to_string());
        }
        std::fs::create_dir_all(dir)?;
        let path = dir.join(METRICS_FILE);
        let header = all.join(",");

        let existing = match resume_step {
            None => None,
            Some(_) => match std::fs::read_to_string(&path) {
                Ok(text) if !text.trim().is_empty() => Some(text),
                Ok(_) => None,
                Err(e) if e.kind() == io::ErrorKind::NotFound => None,
                Err(e) => return Err(e),
            },
        };

        let mut out = String::new();
        out.push_str(&header);
        out.push('\n');
        if let (Some(text), Some(resume)) = (existing, resume_step) {
            let mut lines = text.split_inclusive('\n');
            let found = lines.next().unwrap_or("").trim_end_matches(['\n', '\r']);
            if found != header {
                return Err(invalid_data(format!(
                    "metrics: {} has header `{found}` but this run logs `{header}`; \
                     use a new run directory or a matching column set",
                    path.display()
                )));
            }
            for line in lines {
                // A line without its newline was cut off mid-write.
                let Some(body) = line.strip_suffix('\n') else {
                    break;
                };
                let body = body.trim_end_matches('\r');
                if body.trim().is_empty() {
                    continue;
                }
                let fields: Vec<&str> = body.split(',').collect();
                if fields.len() != all.len() {
                    continue;
                }
                match fields[0].trim().parse::<u64>() {
                    Ok(step) if step <= resume => {
                        out.push_str(body);
                        out.push('\n');
                    }
                    _ => {}
                }
            }
        }
        write_atomic(&path, out.as_bytes())?;
        let file = OpenOptions::new().append(true).open(&path)?;
        Ok(MetricsLog {
            path,
            columns: all,
            file,
        })
    }

    /// Path of the CSV file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All column names, `step` first.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Appends one row and flushes it. Columns not named in `values` are left empty; naming a
    /// column that the log does not have (or `step`, or one column twice) is an error and writes
    /// nothing.
    pub fn log(&mut self, step: u64, values: &[(&str, f64)]) -> io::Result<()> {
        let mut row: Vec<Option<f64>> = vec![None; self.columns.len() - 1];
        for &(name, value) in values {
            let idx = self.columns[1..]
                .iter()
                .position(|c| c == name)
                .ok_or_else(|| {
                    invalid_input(format!(
                        "metrics: unknown column {name:?} (columns: {})",
                        self.columns.join(",")
                    ))
                })?;
            if row[idx].replace(value).is_some() {
                return Err(invalid_input(format!(
                    "metrics: column {name:?} given twice"
                )));
            }
        }
        let mut line = step.to_string();
        for v in row {
            line.push(',');
            if let Some(v) = v {
                let _ = write!(line, "{v}");
            }
        }
        line.push('\n');
        self.file.write_all(line.as_bytes())?;
        self.file.flush()
    }
}

/// Reads a metrics CSV: the header names and every row's values, `step` included as column 0.
/// Empty fields are `None`. A last line without a newline (a torn write) is ignored.
#[allow(clippy::type_complexity)]
pub fn read_csv(path: &Path) -> io::Result<(Vec<String>, Vec<Vec<Option<f64>>>)> {
    let text = std::fs::read_to_string(path)?;
    let mut lines = text.split_inclusive('\n');
    let header_line = lines
        .next()
        .map(|l| l.trim_end_matches(['\n', '\r']))
        .filter(|l| !l.trim().is_empty())
        .ok_or_else(|| invalid_data(format!("{}: empty file, no header", path.display())))?;
    let header: Vec<String> = header_line
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let Some(body) = line.strip_suffix('\n') else {
            break;
        };
        let body = body.trim_end_matches('\r');
        if body.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = body.split(',').collect();
        if fields.len() != header.len() {
            return Err(invalid_data(format!(
                "{}: line {} has {} fields, header has {}",
                path.display(),
                i + 2,
                fields.len(),
                header.len()
            )));
        }
        let row = fields
            .iter()
            .map(|f| {
                let f = f.trim();
                if f.is_empty() {
                    Ok(None)
                } else {
                    f.parse::<f64>().map(Some).map_err(|_| {
                        invalid_data(format!(
                            "{}: line {}: bad number {f:?}",
                            path.display(),
                            i + 2
                        ))
                    })
                }
            })
            .collect::<io::Result<Vec<_>>>()?;
        rows.push(row);
    }
    Ok((header, rows))
}

// ---------------------------------------------------------------------------------------------
// SVG plot

const PANEL_W: f64 = 320.0;
const PANEL_H: f64 = 200.0;
const PANEL_COLS: usize = 3;
const MARGIN_L: f64 = 58.0;
const MARGIN_R: f64 = 14.0;
const MARGIN_T: f64 = 26.0;
const MARGIN_B: f64 = 34.0;
const PAD: f64 = 10.0;
const TITLE_H: f64 = 30.0;
const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
];

fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Compact tick label.
fn fmt_num(v: f64) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    let a = v.abs();
    if !(1e-3..1e6).contains(&a) {
        let s = format!("{v:.2e}");
        // "1.50e-4" -> "1.5e-4", "1.00e7" -> "1e7"
        let (m, e) = s.split_once('e').unwrap_or((s.as_str(), "0"));
        let m = m.trim_end_matches('0').trim_end_matches('.');
        return format!("{m}e{e}");
    }
    if (v - v.round()).abs() < 1e-9 * a.max(1.0) {
        return format!("{}", v.round() as i64);
    }
    let decimals = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// About `target` round-numbered ticks covering [lo, hi] (lo < hi), inside the range.
fn nice_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    let target = target.max(2);
    let span = hi - lo;
    let mag = 10f64.powf((span / target as f64).log10().floor());
    let first = |s: f64| (lo / s - 1e-9).ceil() as i64;
    let last = |s: f64| (hi / s + 1e-9).floor() as i64;
    let step = [1.0, 2.0, 2.5, 5.0, 10.0, 20.0, 25.0, 50.0, 100.0]
        .iter()
        .map(|m| m * mag)
        .find(|&s| last(s) - first(s) < target as i64)
        .unwrap_or(100.0 * mag);
    (first(step)..=last(step))
        .map(|k| k as f64 * step)
        .collect()
}

/// Ticks for a log axis whose range is [lo, hi] in log10 units: values, not exponents.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    for mantissas in [&[1.0][..], &[1.0, 3.0][..], &[1.0, 2.0, 5.0][..]] {
        let mut ticks = Vec::new();
        for e in (lo.floor() as i32)..=(hi.ceil() as i32) {
            for m in mantissas {
                let v = m * 10f64.powi(e);
                let lv = v.log10();
                if lv >= lo - 1e-9 && lv <= hi + 1e-9 {
                    ticks.push(v);
                }
            }
        }
        if ticks.len() >= 3 || mantissas.len() == 3 {
            if ticks.len() > 4 {
                let stride = ticks.len().div_ceil(4);
                ticks = ticks.into_iter().step_by(stride).collect();
            }
            return ticks;
        }
    }
    unreachable!()
}

fn padded_range(lo: f64, hi: f64) -> (f64, f64) {
    if hi > lo {
        let pad = (hi - lo) * 0.04;
        (lo - pad, hi + pad)
    } else {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.5 };
        (lo - pad, hi + pad)
    }
}

/// Centered moving average with window `2 * half + 1` (shrunk at the ends).
fn moving_average(ys: &[f64], half: usize) -> Vec<f64> {
    let mut prefix = Vec::with_capacity(ys.len() + 1);
    prefix.push(0.0);
    for y in ys {
        prefix.push(prefix.last().unwrap() + y);
    }
    (0..ys.len())
        .map(|i| {
            let a = i.saturating_sub(half);
            let b = (i + half + 1).min(ys.len());
            (prefix[b] - prefix[a]) / (b - a) as f64
        })
        .collect()
}

/// One panel: frame, ticks, the series (`None` = a break in the line) and its moving average.
fn panel_svg(svg: &mut String, name: &str, color: &str, pts: &[Option<(f64, f64)>]) {
    let finite: Vec<(f64, f64)> = pts.iter().flatten().copied().collect();
    let pw = PANEL_W - MARGIN_L - MARGIN_R;
    let ph = PANEL_H - MARGIN_T - MARGIN_B;
    let _ = writeln!(
        svg,
        r##"<text x="{:.1}" y="16" text-anchor="middle" font-size="12" font-weight="bold">{}</text>"##,
        MARGIN_L + pw / 2.0,
        escape_xml(name)
    );
    let _ = writeln!(
        svg,
        r##"<rect x="{MARGIN_L}" y="{MARGIN_T}" width="{pw}" height="{ph}" fill="#fbfbfb" stroke="#bbbbbb"/>"##
    );
    if finite.is_empty() {
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#888888">no data</text>"##,
            MARGIN_L + pw / 2.0,
            MARGIN_T + ph / 2.0
        );
        return;
    }

    let (ymin, ymax) = finite
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &(_, y)| {
            (a.min(y), b.max(y))
        });
    let log = ymin > 0.0 && ymax / ymin > 30.0;
    let ty = |y: f64| if log { y.log10() } else { y };
    let (xmin, xmax) = finite
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &(x, _)| {
            (a.min(x), b.max(x))
        });
    let (x0, x1) = if xmax > xmin {
        (xmin, xmax)
    } else {
        padded_range(xmin, xmax)
    };
    let (y0, y1) = padded_range(ty(ymin), ty(ymax));
    let sx = |x: f64| MARGIN_L + (x - x0) / (x1 - x0) * pw;
    let sy = |v: f64| MARGIN_T + ph - (v - y0) / (y1 - y0) * ph;

    // Grid and tick labels.
    let yticks: Vec<f64> = if log {
        log_ticks(y0, y1)
    } else {
        nice_ticks(y0, y1, 4)
    };
    for &t in &yticks {
        let py = sy(ty(t));
        let _ = writeln!(
            svg,
            r##"<line x1="{MARGIN_L}" y1="{py:.1}" x2="{:.1}" y2="{py:.1}" stroke="#e4e4e4"/>"##,
            MARGIN_L + pw
        );
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#444444">{}</text>"##,
            MARGIN_L - 4.0,
            py + 3.5,
            escape_xml(&fmt_num(t))
        );
    }
    for &t in &nice_ticks(x0, x1, 4) {
        let px = sx(t);
        let _ = writeln!(
            svg,
            r##"<line x1="{px:.1}" y1="{:.1}" x2="{px:.1}" y2="{:.1}" stroke="#888888"/>"##,
            MARGIN_T + ph,
            MARGIN_T + ph + 4.0
        );
        let _ = writeln!(
            svg,
            r##"<text x="{px:.1}" y="{:.1}" text-anchor="middle" fill="#444444">{}</text>"##,
            MARGIN_T + ph + 15.0,
            escape_xml(&fmt_num(t))
        );
    }
    // Axes.
    let _ = writeln!(
        svg,
        r##"<path d="M{MARGIN_L},{MARGIN_T} V{:.1} H{:.1}" fill="none" stroke="#555555" class="axis"/>"##,
        MARGIN_T + ph,
        MARGIN_L + pw
    );
    let _ = writeln!(
        svg,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#666666">step{}</text>"##,
        MARGIN_L + pw / 2.0,
        PANEL_H - 4.0,
        if log { " (log y)" } else { "" }
    );

    // Raw series: one path, broken where a row has no value.
    let smooth = finite.len() > 50;
    let mut d = String::new();
    let mut pen_down = false;
    for p in pts {
        match p {
            Some((x, y)) => {
                let _ = write!(
                    d,
                    "{}{:.1},{:.1} ",
                    if pen_down { "L" } else { "M" },
                    sx(*x),
                    sy(ty(*y))
                );
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    let (width, opacity) = if smooth { (0.8, 0.35) } else { (1.3, 1.0) };
    if finite.len() <= 30 {
        for &(x, y) in &finite {
            let _ = writeln!(
                svg,
                r##"<circle cx="{:.1}" cy="{:.1}" r="2.2" fill="{color}"/>"##,
                sx(x),
                sy(ty(y))
            );
        }
    }
    let _ = writeln!(
        svg,
        r##"<path class="series" d="{}" fill="none" stroke="{color}" stroke-width="{width}" stroke-opacity="{opacity}" stroke-linejoin="round"/>"##,
        d.trim_end()
    );

    // Moving average over the plotted values.
    if smooth {
        let ys: Vec<f64> = finite.iter().map(|&(_, y)| ty(y)).collect();
        let half = (finite.len() / 40).max(2);
        let avg = moving_average(&ys, half);
        let mut d = String::new();
        for (i, (&(x, _), &v)) in finite.iter().zip(&avg).enumerate() {
            let _ = write!(
                d,
                "{}{:.1},{:.1} ",
                if i == 0 { "M" } else { "L" },
                sx(x),
                sy(v)
            );
        }
        let _ = writeln!(
            svg,
            r##"<path class="smooth" d="{}" fill="none" stroke="{color}" stroke-width="1.8" stroke-linejoin="round"/>"##,
            d.trim_end()
        );
    }
}

/// Draws every column of the metrics CSV at `csv_path` except `step` as its own small panel
/// (x = step; y linear, or log10 when all values are positive and span more than 30x) and writes
/// the SVG atomically to `svg_path`. With more than 50 points a panel also gets a moving average
/// drawn over the faded raw values.
pub fn write_svg_plot(csv_path: &Path, svg_path: &Path, title: &str) -> io::Result<()> {
    let (header, rows) = read_csv(csv_path)?;
    let step_idx = header.iter().position(|h| h == STEP_COLUMN).unwrap_or(0);
    let series: Vec<usize> = (0..header.len()).filter(|&i| i != step_idx).collect();

    let ncols = series.len().clamp(1, PANEL_COLS);
    let nrows = series.len().div_ceil(PANEL_COLS).max(1);
    let width = PAD * 2.0 + ncols as f64 * PANEL_W;
    let height = TITLE_H + PAD + nrows as f64 * PANEL_H;

    let mut svg = String::new();
    let _ = writeln!(svg, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="10">"##
    );
    let _ = writeln!(
        svg,
        r##"<rect width="100%" height="100%" fill="#ffffff"/>"##
    );
    let _ = writeln!(
        svg,
        r##"<text x="{:.1}" y="21" text-anchor="middle" font-size="15" font-weight="bold">{}</text>"##,
        width / 2.0,
        escape_xml(title)
    );
    if series.is_empty() {
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#888888">no columns</text>"##,
            width / 2.0,
            TITLE_H + PANEL_H / 2.0
        );
    }
    for (k, &col) in series.iter().enumerate() {
        let px = PAD + (k % PANEL_COLS) as f64 * PANEL_W;
        let py = TITLE_H + (k / PANEL_COLS) as f64 * PANEL_H;
        // Rows that did not log this column are skipped (sparse columns such as evaluations
        // stay connected); a logged NaN or infinity breaks the line.
        let pts: Vec<Option<(f64, f64)>> = rows
            .iter()
            .filter_map(|r| match (r[step_idx], r[col]) {
                (Some(x), Some(y)) if x.is_finite() && y.is_finite() => Some(Some((x, y))),
                (_, None) | (None, _) => None,
                _ => Some(None),
            })
            .collect();
        let _ = writeln!(svg, r#"<g transform="translate({px},{py})">"#);
        panel_svg(&mut svg, &header[col], COLORS[k % COLORS.len()], &pts);
        let _ = writeln!(svg, "</g>");
    }
    let _ = writeln!(svg, "</svg>");
    write_atomic(svg_path, svg.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn fresh_log_writes_header_and_rows() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = MetricsLog::open(dir.path(), &["loss", "lr"], None).unwrap();
        log.log(0, &[("loss", 1.5), ("lr", 3e-4)]).unwrap();
        log.log(10, &[("loss", 0.25)]).unwrap();
        log.log(20, &[]).unwrap();
        assert_eq!(log.columns(), ["step", "loss", "lr"]);
        assert_eq!(
            lines(log.path()),
            ["step,loss,lr", "0,1.5,0.0003", "10,0.25,", "20,,"]
        );

        let (header, rows) = read_csv(log.path()).unwrap();
        assert_eq!(header, ["step", "loss", "lr"]);
        assert_eq!(
            rows,
            vec![
                vec![Some(0.0), Some(1.5), Some(3e-4)],
                vec![Some(10.0), Some(0.25), None],
                vec![Some(20.0), None, None],
            ]
        );

        // Values round-trip exactly.
        let x = 0.1 + 0.2;
        log.log(30, &[("loss", x)]).unwrap();
        let (_, rows) = read_csv(log.path()).unwrap();
        assert_eq!(rows[3][1], Some(x));

        // A fresh start replaces an old log.
        drop(log);
        let log = MetricsLog::open(dir.path(), &["loss", "lr"], None).unwrap();
        assert_eq!(lines(log.path()), ["step,loss,lr"]);
    }

    #[test]
    fn log_rejects_unknown_and_duplicate_columns() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = MetricsLog::open(dir.path(), &["loss"], None).unwrap();
        let err = log.log(1, &[("loss", 1.0), ("accuracy", 0.5)]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("accuracy"), "{err}");
        assert!(log.log(1, &[("loss", 1.0), ("loss", 2.0)]).is_err());
        assert!(log.log(1, &[("step", 1.0)]).is_err());
        // Nothing was written by the failed calls.
        assert_eq!(lines(log.path()), ["step,loss"]);

        assert!(MetricsLog::open(dir.path(), &["a", "a"], None).is_err());
        assert!(MetricsLog::open(dir.path(), &["step"], None).is_err());
        assert!(MetricsLog::open(dir.path(), &["a,b"], None).is_err());
    }

    #[test]
    fn resume_drops_rows_after_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = MetricsLog::open(dir.path(), &["loss"], None).unwrap();
        for step in [0u64, 100, 200, 300, 400] {
            log.log(step, &[("loss", step as f64 / 100.0)]).unwrap();
        }
        drop(log);
        // Simulate a crash in the middle of writing a row.
        let path = dir.path().join(METRICS_FILE);
        OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"500,4.")
            .unwrap();

        let mut log = MetricsLog::open(dir.path(), &["loss"], Some(200)).unwrap();
        assert_eq!(lines(&path), ["step,loss", "0,0", "100,1", "200,2"]);
        log.log(300, &[("loss", 9.0)]).unwrap();
        assert_eq!(
            lines(&path),
            ["step,loss", "0,0", "100,1", "200,2", "300,9"]
        );
        drop(log);

        // Resuming past the end keeps everything; resuming without a file starts fresh.
        MetricsLog::open(dir.path(), &["loss"], Some(10_000)).unwrap();
        assert_eq!(lines(&path).len(), 5);
        let other = dir.path().join("other");
        let log = MetricsLog::open(&other, &["loss"], Some(50)).unwrap();
        assert_eq!(lines(log.path()), ["step,loss"]);
        assert_no_temp_files(dir.path());
    }

    #[test]
    fn resume_with_other_header_names_both() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = MetricsLog::open(dir.path(), &["loss", "lr"], None).unwrap();
        log.log(5, &[("loss", 1.0)]).unwrap();
        drop(log);
        let err = MetricsLog::open(dir.path(), &["loss", "grad_norm"], Some(5)).unwrap_err();
        let msg = err.to_string();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(msg.contains("step,loss,lr"), "{msg}");
        assert!(msg.contains("step,loss,grad_norm"), "{msg}");
        // The file is untouched.
        assert_eq!(
            lines(&dir.path().join(METRICS_FILE)),
            ["step,loss,lr", "5,1,"]
        );
    }

    /// Rough well-formedness check: every element closed in order, attributes quoted, no raw
    /// `<` or stray `&` in text.
    fn assert_well_formed(xml: &str) {
        let mut stack: Vec<String> = Vec::new();
        let mut rest = xml;
        let mut saw_root = false;
        while let Some(start) = rest.find('<') {
            check_text(&rest[..start]);
            let after = &rest[start + 1..];
            let end = after.find('>').expect("unterminated tag");
            let tag = &after[..end];
            rest = &after[end + 1..];
            assert_eq!(
                tag.matches('"').count() % 2,
                0,
                "unbalanced quotes in <{tag}>"
            );
            assert!(!tag.contains('<'), "'<' inside tag <{tag}>");
            if tag.starts_with('?') {
                assert!(tag.ends_with('?'), "bad declaration <{tag}>");
            } else if let Some(name) = tag.strip_prefix('/') {
                let open = stack.pop().unwrap_or_else(|| panic!("stray </{name}>"));
                assert_eq!(open, name.trim(), "mismatched close tag");
            } else {
                let name = tag.split_whitespace().next().unwrap().trim_end_matches('/');
                assert!(!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()));
                if stack.is_empty() {
                    assert!(!saw_root, "more than one root element");
                    saw_root = true;
                }
                if !tag.ends_with('/') {
                    stack.push(name.to_string());
                }
            }
        }
        check_text(rest);
        assert!(stack.is_empty(), "unclosed elements: {stack:?}");
        assert!(saw_root);
    }

    fn check_text(text: &str) {
        for (i, _) in text.match_indices('&') {
            let ent = &text[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                    .iter()
                    .any(|e| ent.starts_with(e)),
                "unescaped '&' in {text:?}"
            );
        }
    }

    fn assert_no_temp_files(dir: &Path) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().to_string();
            assert!(!name.contains(".tmp."), "leftover temp file {name}");
        }
    }

    #[test]
    fn svg_plot_has_one_series_per_column() {
        let dir = tempfile::tempdir().unwrap();
        let mut log =
            MetricsLog::open(dir.path(), &["loss", "lr", "a<b & 'c'", "empty"], None).unwrap();
        for step in 0..20u64 {
            let loss = 100.0 * (-(step as f64) / 3.0).exp(); // spans > 30x: log axis
            let mut row = vec![("loss", loss), ("a<b & 'c'", (step as f64).sin())];
            if step % 2 == 0 {
                row.push(("lr", 1e-3 + step as f64 * 1e-5));
            }
            log.log(step * 10, &row).unwrap();
        }
        let svg_path = dir.path().join("metrics.svg");
        write_svg_plot(log.path(), &svg_path, "run <1> & co").unwrap();
        let svg = std::fs::read_to_string(&svg_path).unwrap();
        assert_well_formed(&svg);
        assert_eq!(svg.matches(r#"<path class="series""#).count(), 3, "{svg}");
        assert_eq!(svg.matches(r#"<path class="smooth""#).count(), 0);
        assert!(svg.contains("run &lt;1&gt; &amp; co"));
        assert!(svg.contains("a&lt;b &amp; &apos;c&apos;"));
        assert!(svg.contains("(log y)"));
        assert!(svg.contains("no data"));
        // `lr` is logged every other row but still drawn as one connected line.
        let lr_panel = svg.split("<g ").nth(2).unwrap();
        let d = lr_panel.split(r#"class="series" d=""#).nth(1).unwrap();
        let d = &d[..d.find('"').unwrap()];
        assert_eq!(d.matches('M').count(), 1, "{d}");
        assert_eq!(d.matches('L').count(), 9, "{d}");
        // Tick labels per panel: 3 or 4 on each axis.
        for panel in svg.split("<g ").skip(1).take(3) {
            let ticks = panel.matches(r#"text-anchor="end""#).count();
            assert!((2..=5).contains(&ticks), "{ticks} y ticks in {panel}");
            let xt = panel.matches(r##"stroke="#888888"/>"##).count();
            assert!((2..=5).contains(&xt), "{xt} x ticks in {panel}");
        }
        assert_no_temp_files(dir.path());
    }

    #[test]
    fn svg_plot_smooths_long_series() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = MetricsLog::open(dir.path(), &["loss", "acc"], None).unwrap();
        for step in 0..200u64 {
            let noise = ((step * 7919) % 13) as f64 / 13.0;
            let loss = if step == 100 { f64::NAN } else { 2.0 + noise };
            log.log(step, &[("loss", loss), ("acc", step as f64 / 200.0)])
                .unwrap();
        }
        let (_, rows) = read_csv(log.path()).unwrap();
        assert!(rows[100][1].unwrap().is_nan());
        let svg_path = dir.path().join("plot.svg");
        write_svg_plot(log.path(), &svg_path, "long").unwrap();
        let svg = std::fs::read_to_string(&svg_path).unwrap();
        assert_well_formed(&svg);
        assert_eq!(svg.matches(r#"<path class="series""#).count(), 2);
        assert_eq!(svg.matches(r#"<path class="smooth""#).count(), 2);
        // The NaN breaks the raw loss line in two.
        let d = svg.split(r#"class="series" d=""#).nth(1).unwrap();
        assert_eq!(d[..d.find('"').unwrap()].matches('M').count(), 2);
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ckpt.bin");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        assert_eq!(names, ["ckpt.bin"]);

        // Failure (missing directory) leaves nothing behind and reports the error.
        let bad = dir.path().join("missing").join("x.bin");
        assert!(write_atomic(&bad, b"x").is_err());
        assert_no_temp_files(dir.path());
    }

    #[test]
    fn tick_helpers() {
        assert_eq!(nice_ticks(0.0, 100.0, 4), [0.0, 50.0, 100.0]);
        assert_eq!(nice_ticks(0.0, 190.0, 4), [0.0, 50.0, 100.0, 150.0]);
        let t = nice_ticks(0.13, 0.87, 4);
        assert!((3..=5).contains(&t.len()), "{t:?}");
        let t = log_ticks(-4.0, 0.0);
        assert!((3..=4).contains(&t.len()), "{t:?}");
        let t = log_ticks(0.0, 1.5);
        assert!(t.len() >= 3, "{t:?}");
        assert_eq!(fmt_num(0.0003), "3e-4");
        assert_eq!(fmt_num(0.003), "0.003");
        assert_eq!(fmt_num(1e-5), "1e-5");
        assert_eq!(fmt_num(2500.0), "2500");
        assert_eq!(fmt_num(2.5e7), "2.5e7");
        assert_eq!(fmt_num(0.125), "0.125");
    }
}
