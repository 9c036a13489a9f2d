//! Timelines: what each process waited on, over time, built from a trace.
//!
//! In a discrete-event simulation a process runs in no time at all: between two of its
//! steps it *waits*. So the story of a process is a sequence of waits — sleeping, waiting to
//! get from a queue, for a resource, for the first of several things, in a critical (masked)
//! region, in an activity — each ended by a wake, and an interrupt shows as a wait cut short.
//! A [`Timeline`] is that story for every process of a run: one [`Row`] per process, with
//! its [`Interval`]s and its [`Marker`]s (interrupted, preempted, summoned, done, failed).
//!
//! It is built from a trace that records the waits a process starts, so record with
//! [`TraceLog::with_waits`] (see [`crate::trace`]): a wait runs from its `wait:*` event to
//! the process's next wake. A wait still pending when the trace ends is open: it ends at the
//! timeline's [`end`](Timeline::end), which [`Timeline::extend_to`] can move (to the end of
//! a `run_until`, say).
//!
//! ```
//! use stepsim::timeline::{Marker, MarkerKind, Timeline};
//! use stepsim::{Boxed, Reason, Command, Context, Interrupt, Pid, Process, Simulation, TraceLog, WaitKind, Wake};
//!
//! /// Sleeps 10; if interrupted, finishes at once.
//! struct Sleeper;
//! impl Process<Boxed<()>> for Sleeper {
//!     fn step(&mut self, _: &mut Context<'_, Boxed<()>>, wake: Wake<()>) -> Command<()> {
//!         match wake {
//!             Wake::Started => Command::Sleep(10.0),
//!             _ => Command::Done,
//!         }
//!     }
//! }
//! /// Interrupts the sleeper at t=4.
//! struct Alarm(Pid);
//! impl Process<Boxed<()>> for Alarm {
//!     fn step(&mut self, cx: &mut Context<'_, Boxed<()>>, wake: Wake<()>) -> Command<()> {
//!         match wake {
//!             Wake::Started => Command::Sleep(4.0),
//!             _ => {
//!                 cx.interrupt(self.0, ());
//!                 Command::Done
//!             }
//!         }
//!     }
//! }
//!
//! let mut sim = Simulation::<Boxed<()>>::new(0);
//! let log = TraceLog::with_waits();
//! sim.observe(log.clone());
//! let sleeper = sim.spawn_named("sleeper", Box::new(Sleeper));
//! sim.spawn_named("alarm", Box::new(Alarm(sleeper)));
//! sim.run()?;
//!
//! let timeline = Timeline::from_log(&log);
//! let row = &timeline.rows()[0];
//! assert_eq!(row.label, "sleeper");
//! // It slept from 0 and was cut short at 4 ...
//! let slept = &row.intervals[0];
//! assert_eq!((slept.start, slept.end, slept.state.on), (0.0, 4.0, WaitKind::Sleep));
//! assert!(slept.was_cut());
//! // ... by the interrupt, after which it finished.
//! assert_eq!(
//!     row.markers,
//!     [Marker { time: 4.0, kind: MarkerKind::Interrupted }, Marker { time: 4.0, kind: MarkerKind::Done }]
//! );
//! # Ok::<(), stepsim::Error>(())
//! ```
//!
//! # Pictures (feature `plot`)
//! With the crate's `plot` feature, `Timeline::to_svg` and `Timeline::write_svg` draw the
//! timeline with the [plotters](https://docs.rs/plotters) crate: one horizontal lane per
//! process, a coloured bar per wait (the colour says what it waits on, a label inside says
//! on which queue or resource when it fits), a line and a triangle where an interrupt,
//! preemption or summons cut a wait short, a dot where a process finished, a time axis and
//! a legend. `examples/interrupt_resume.rs` draws one:
//!
//! ```sh
//! cargo run --example interrupt_resume --features plot -- --svg timeline.svg
//! ```
//!
//! ```
//! # use stepsim::{Reason, Interrupt, TraceLog, timeline::Timeline};
//! # let timeline = Timeline::from_log(&TraceLog::with_waits());
//! #[cfg(feature = "plot")]
//! {
//!     let svg = timeline.to_svg(800, 300)?;
//!     assert!(svg.starts_with("<svg"));
//! }
//! # Ok::<(), std::io::Error>(())
//! ```

use crate::command::WakeKind;
use crate::handle::Pid;
use crate::trace::{Record, TraceKind, TraceLog, WaitKind, Waiting};
use std::collections::HashMap;

/// One wait of one process: from `start` (when it was issued) to `end` (the wake that ended
/// it), half-open, `[start, end)`.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Interval {
    /// When the wait started.
    pub start: f64,
    /// When it ended (the timeline's end, for a wait still pending when the trace ended).
    pub end: f64,
    /// What the process waited on, and whether masked.
    pub state: Waiting,
    /// The wake that ended it (`Interrupted`, `Preempted` or `Summoned` when it was cut
    /// short); `None` if it was still pending when the trace ended.
    pub ended_by: Option<WakeKind>,
}

impl Interval {
    /// Whether an interrupt, a preemption or a summons to an activity withdrew the wait
    /// before it completed.
    pub fn was_cut(&self) -> bool {
        matches!(
            self.ended_by,
            Some(WakeKind::Interrupted | WakeKind::Preempted | WakeKind::Summoned)
        )
    }

    /// `end - start`.
    pub fn duration(&self) -> f64 {
        self.end - self.start
    }
}

/// Something that happened to a process at an instant.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MarkerKind {
    /// It was stepped with `Wake::Interrupted`.
    Interrupted,
    /// It was stepped with `Wake::Interrupted`, preempted (`Reason::Preempted`).
    Preempted,
    /// It was stepped with `Wake::Interrupted`, summoned (`Reason::Summoned`).
    Summoned,
    /// It returned `Command::Done`.
    Done,
    /// Its command was rejected with an error.
    Failed,
    /// An interrupt for it was dropped because it finished first.
    InterruptDropped,
}

impl MarkerKind {
    /// The words the legend uses: `interrupted`, `interrupt dropped`, …
    pub fn label(self) -> &'static str {
        match self {
            MarkerKind::Interrupted => "interrupted",
            MarkerKind::Preempted => "preempted",
            MarkerKind::Summoned => "summoned",
            MarkerKind::Done => "done",
            MarkerKind::Failed => "failed",
            MarkerKind::InterruptDropped => "interrupt dropped",
        }
    }
}

/// An instant in a process's timeline.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Marker {
    /// When.
    pub time: f64,
    /// What happened.
    pub kind: MarkerKind,
}

/// One process's timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The process.
    pub pid: Pid,
    /// Its name, or `#index` if it has none.
    pub label: String,
    /// Its waits, in time order; they do not overlap.
    pub intervals: Vec<Interval>,
    /// Its interrupts, preemptions, summonses and end, in time order.
    pub markers: Vec<Marker>,
}

impl Row {
    /// Whether the process finished (returned `Done` or failed) within the trace.
    pub fn finished(&self) -> bool {
        self.markers
            .iter()
            .any(|m| matches!(m.kind, MarkerKind::Done | MarkerKind::Failed))
    }
}

/// Every traced process's waits and markers; see [the module docs](self).
///
/// ```
/// use stepsim::{Boxed, Command, Context, Process, Simulation, Wake};
/// struct Nap;
/// impl Process<Boxed<()>> for Nap {
///     fn step(&mut self, _: &mut Context<'_, Boxed<()>>, wake: Wake<()>) -> Command<()> {
///         if let Wake::Started = wake { Command::Sleep(2.0) } else { Command::Done }
///     }
/// }
/// use stepsim::{Timeline, TraceLog};
/// let mut sim = Simulation::<Boxed<()>>::new(0);
/// let log = TraceLog::with_waits(); // the timeline needs the waits
/// sim.observe(log.clone());
/// sim.spawn_named("napper", Box::new(Nap));
/// sim.run()?;
/// let timeline = Timeline::from_log(&log);
/// let row = &timeline.rows()[0];
/// assert_eq!(row.label, "napper");
/// assert_eq!(row.intervals[0].duration(), 2.0); // the nap
/// assert!(row.finished());
/// # Ok::<(), stepsim::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Timeline {
    rows: Vec<Row>,
    start: f64,
    end: f64,
}

impl Timeline {
    /// The timeline of everything recorded in `log` so far (which should record waits:
    /// [`TraceLog::with_waits`]; without them there are markers but no intervals).
    pub fn from_log(log: &TraceLog) -> Self {
        Self::build(log.lock().iter())
    }

    /// The timeline of these records, in the order they were recorded.
    pub fn from_records(records: &[Record]) -> Self {
        Self::build(records.iter())
    }

    fn build<'a>(records: impl Iterator<Item = &'a Record>) -> Self {
        let mut rows: Vec<Row> = Vec::new();
        // Per row, the wait in progress: its start and state.
        let mut open: Vec<Option<(f64, Waiting)>> = Vec::new();
        let mut by_pid: HashMap<Pid, usize> = HashMap::new();
        let (mut start, mut end) = (f64::INFINITY, f64::NEG_INFINITY);
        for r in records {
            start = start.min(r.time);
            end = end.max(r.time);
            let i = *by_pid.entry(r.pid).or_insert_with(|| {
                rows.push(Row {
                    pid: r.pid,
                    label: if r.name.is_empty() {
                        format!("#{}", r.pid.index())
                    } else {
                        r.name.clone()
                    },
                    intervals: Vec::new(),
                    markers: Vec::new(),
                });
                open.push(None);
                rows.len() - 1
            });
            let row = &mut rows[i];
            let mut close = |ended_by| {
                if let Some((start, state)) = open[i].take() {
                    row.intervals.push(Interval {
                        start,
                        end: r.time,
                        state,
                        ended_by,
                    });
                }
            };
            let marker = match r.kind {
                TraceKind::Wait(state) => {
                    close(None);
                    open[i] = Some((r.time, state));
                    None
                }
                TraceKind::Wake(wake) => {
                    close(Some(wake));
                    match wake {
                        WakeKind::Interrupted => Some(MarkerKind::Interrupted),
                        WakeKind::Preempted => Some(MarkerKind::Preempted),
                        WakeKind::Summoned => Some(MarkerKind::Summoned),
                        _ => None,
                    }
                }
                TraceKind::Done => {
                    close(None);
                    Some(MarkerKind::Done)
                }
                TraceKind::Failed => {
                    close(None);
                    Some(MarkerKind::Failed)
                }
                TraceKind::InterruptDropped => Some(MarkerKind::InterruptDropped),
            };
            if let Some(kind) = marker {
                rows[i].markers.push(Marker { time: r.time, kind });
            }
        }
        if rows.is_empty() {
            (start, end) = (0.0, 0.0);
        }
        for (row, open) in rows.iter_mut().zip(open) {
            if let Some((start, state)) = open {
                row.intervals.push(Interval {
                    start,
                    end,
                    state,
                    ended_by: None,
                });
            }
        }
        Timeline { rows, start, end }
    }

    /// One row per traced process, in order of their first event.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The time of the first traced event (0 for an empty trace).
    pub fn start(&self) -> f64 {
        self.start
    }

    /// The time of the last traced event, or what [`Timeline::extend_to`] set.
    pub fn end(&self) -> f64 {
        self.end
    }

    /// Moves the end to `end` if that is later, and with it the end of every wait still
    /// pending (`ended_by == None`): after `sim.run_until(t)`, `extend_to(t)` shows the
    /// waits that were still going on at `t`.
    pub fn extend_to(&mut self, end: f64) {
        if end <= self.end {
            return;
        }
        for row in &mut self.rows {
            if row.finished() {
                continue;
            }
            if let Some(last) = row.intervals.last_mut()
                && last.ended_by.is_none()
                && last.end == self.end
            {
                last.end = end;
            }
        }
        self.end = end;
    }
}

/// How a wait is drawn: its colour group in the legend.
#[cfg_attr(not(feature = "plot"), allow(dead_code))]
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Category {
    Sleeping,
    Masked,
    Getting,
    Putting,
    Acquiring,
    Joining,
    Container,
    Signal,
    Barrier,
    FirstOf,
    AllOf,
    Attending,
}

#[cfg_attr(not(feature = "plot"), allow(dead_code))]
impl Category {
    const ALL: [Category; 12] = [
        Category::Sleeping,
        Category::Masked,
        Category::Getting,
        Category::Putting,
        Category::Acquiring,
        Category::Joining,
        Category::Container,
        Category::Signal,
        Category::Barrier,
        Category::FirstOf,
        Category::AllOf,
        Category::Attending,
    ];

    fn of(state: &Waiting) -> Self {
        if state.masked {
            return Category::Masked;
        }
        match state.on {
            WaitKind::Sleep | WaitKind::Yield => Category::Sleeping,
            WaitKind::Get(_) | WaitKind::GetWhere(_) => Category::Getting,
            WaitKind::Put(_) => Category::Putting,
            WaitKind::Acquire(_) => Category::Acquiring,
            WaitKind::Join(_) => Category::Joining,
            WaitKind::GetAmount(_) | WaitKind::PutAmount(_) => Category::Container,
            WaitKind::Signal(_) => Category::Signal,
            WaitKind::Arrive(_) => Category::Barrier,
            WaitKind::FirstOf { .. } => Category::FirstOf,
            WaitKind::AllOf { .. } => Category::AllOf,
            WaitKind::Attend(_) => Category::Attending,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Category::Sleeping => "sleeping",
            Category::Masked => "masked (critical)",
            Category::Getting => "waiting to get",
            Category::Putting => "waiting to put",
            Category::Acquiring => "waiting for a resource",
            Category::Joining => "joining",
            Category::Container => "container",
            Category::Signal => "waiting for a signal",
            Category::Barrier => "at a barrier",
            Category::FirstOf => "first-of",
            Category::AllOf => "all-of",
            Category::Attending => "in an activity",
        }
    }

    /// Its colour, as RGB.
    fn rgb(self) -> (u8, u8, u8) {
        match self {
            Category::Sleeping => (0x4e, 0x79, 0xa7),
            Category::Masked => (0xf2, 0x8e, 0x2b),
            Category::Getting => (0x59, 0xa1, 0x4f),
            Category::Putting => (0x8c, 0xd1, 0x7d),
            Category::Acquiring => (0xb0, 0x7a, 0xa1),
            Category::Joining => (0x9c, 0x75, 0x5f),
            Category::Container => (0xed, 0xc9, 0x48),
            Category::Signal => (0x76, 0xb7, 0xb2),
            Category::Barrier => (0xff, 0x9d, 0xa7),
            Category::FirstOf => (0x49, 0x98, 0x94),
            Category::AllOf => (0xba, 0xb0, 0xac),
            Category::Attending => (0x8e, 0x6c, 0x8a),
        }
    }
}

/// The short text drawn inside a wait's bar: `sleep`, `masked sleep`, `get q0`, `first-of 2`.
#[cfg_attr(not(feature = "plot"), allow(dead_code))]
fn bar_label(state: &Waiting) -> String {
    state.to_string().replace(':', " ")
}

#[cfg(feature = "plot")]
mod plot {
    //! Drawing a timeline with plotters' SVG backend.

    use super::{Category, MarkerKind, Timeline, bar_label};
    use plotters::coord::Shift;
    use plotters::coord::ranged1d::SegmentValue;
    use plotters::prelude::*;
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    use std::io;
    use std::path::Path;

    const FONT: &str = "sans-serif";
    const INTERRUPT: RGBColor = RGBColor(0xd6, 0x27, 0x28);
    const PREEMPT: RGBColor = RGBColor(0x8b, 0x00, 0x00);
    const SUMMON: RGBColor = RGBColor(0x6a, 0x3d, 0x9a);
    const DROPPED: RGBColor = RGBColor(0x80, 0x80, 0x80);

    fn marker_color(kind: MarkerKind) -> RGBColor {
        match kind {
            MarkerKind::Interrupted | MarkerKind::Failed => INTERRUPT,
            MarkerKind::Preempted => PREEMPT,
            MarkerKind::Summoned => SUMMON,
            MarkerKind::Done => RGBColor(0, 0, 0),
            MarkerKind::InterruptDropped => DROPPED,
        }
    }

    fn color(c: Category) -> RGBColor {
        let (r, g, b) = c.rgb();
        RGBColor(r, g, b)
    }

    fn to_io<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> io::Error {
        io::Error::other(e.to_string())
    }

    /// One legend entry: a swatch (bar colour) or a marker.
    enum Entry {
        Bar(Category),
        Mark(MarkerKind),
    }

    impl Entry {
        fn label(&self) -> &'static str {
            match self {
                Entry::Bar(c) => c.label(),
                Entry::Mark(m) => m.label(),
            }
        }
    }

    /// Draws one marker at pixel `(x, y)`, the centre of its lane, `h` the lane's height.
    fn draw_marker(
        area: &DrawingArea<SVGBackend<'_>, Shift>,
        kind: MarkerKind,
        (x, y): (i32, i32),
        h: i32,
    ) -> io::Result<()> {
        let c = marker_color(kind);
        match kind {
            MarkerKind::Interrupted | MarkerKind::Preempted | MarkerKind::Summoned => {
                // A line across the lane where the wait was cut, a triangle pointing at it.
                area.draw(&PathElement::new(
                    [(x, y - h / 2), (x, y + h / 2)],
                    c.stroke_width(2),
                ))
                .map_err(to_io)?;
                let top = y - h / 2;
                area.draw(&Polygon::new(
                    [(x - 6, top - 9), (x + 6, top - 9), (x, top - 1)],
                    c.filled(),
                ))
                .map_err(to_io)
            }
            MarkerKind::Done => area
                .draw(&Circle::new((x, y), 4, c.filled()))
                .map_err(to_io),
            MarkerKind::Failed => area
                .draw(&Cross::new((x, y), 6, c.stroke_width(3)))
                .map_err(to_io),
            MarkerKind::InterruptDropped => area
                .draw(&Cross::new((x, y + h / 2 + 6), 4, c.stroke_width(2)))
                .map_err(to_io),
        }
    }

    /// Draws a legend entry's symbol in a 16×12 box whose left middle is `(x, y)`.
    fn draw_symbol(
        area: &DrawingArea<SVGBackend<'_>, Shift>,
        entry: &Entry,
        (x, y): (i32, i32),
    ) -> io::Result<()> {
        match *entry {
            Entry::Bar(c) => area
                .draw(&Rectangle::new(
                    [(x, y - 6), (x + 16, y + 6)],
                    color(c).filled(),
                ))
                .map_err(to_io),
            Entry::Mark(kind @ (MarkerKind::Done | MarkerKind::Failed)) => {
                draw_marker(area, kind, (x + 8, y), 12)
            }
            Entry::Mark(kind) => draw_marker(area, kind, (x + 8, y + 4), 10),
        }
    }

    impl Timeline {
        /// The timeline as an SVG image of `width` × `height` pixels (feature `plot`).
        ///
        /// About 60 pixels per process plus 150 for the title, the time axis and the legend
        /// read well at a width of 800 to 1000. Errors: the picture is too small for its
        /// lanes, labels and legend (the message says how much is needed), or plotters
        /// failed.
        pub fn to_svg(&self, width: u32, height: u32) -> io::Result<String> {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
                self.draw(&root)?;
                root.present().map_err(to_io)?;
            }
            Ok(svg)
        }

        /// Writes [`Timeline::to_svg`] to a file (feature `plot`).
        pub fn write_svg(&self, path: impl AsRef<Path>, width: u32, height: u32) -> io::Result<()> {
            std::fs::write(path, self.to_svg(width, height)?)
        }

        fn draw(&self, root: &DrawingArea<SVGBackend<'_>, Shift>) -> io::Result<()> {
            let (width, height) = root.dim_in_pixel();
            let label_style = (FONT, 14).into_font().color(&BLACK);

            // The legend: what occurs, laid out in lines along the bottom.
            let mut entries: Vec<Entry> = Vec::new();
            let mut categories: Vec<Category> = Vec::new();
            let mut markers: Vec<MarkerKind> = Vec::new();
            for row in &self.rows {
                // Waits of no duration are not drawn, so not in the legend either.
                categories.extend(
                    row.intervals
                        .iter()
                        .filter(|i| i.end > i.start)
                        .map(|i| Category::of(&i.state)),
                );
                markers.extend(row.markers.iter().map(|m| m.kind));
            }
            entries.extend(
                Category::ALL
                    .into_iter()
                    .filter(|c| categories.contains(c))
                    .map(Entry::Bar),
            );
            entries.extend(
                [
                    MarkerKind::Interrupted,
                    MarkerKind::Preempted,
                    MarkerKind::Summoned,
                    MarkerKind::InterruptDropped,
                    MarkerKind::Done,
                    MarkerKind::Failed,
                ]
                .into_iter()
                .filter(|m| markers.contains(m))
                .map(Entry::Mark),
            );
            let margin = 12;
            let mut lines: Vec<Vec<(i32, &Entry)>> = vec![Vec::new()];
            let mut x = margin;
            for entry in &entries {
                let (text_w, _) = root
                    .estimate_text_size(entry.label(), &label_style)
                    .map_err(to_io)?;
                let w = 16 + 6 + text_w as i32 + 22;
                if x + w > width as i32 - margin && x > margin {
                    lines.push(Vec::new());
                    x = margin;
                }
                lines.last_mut().expect("a line").push((x, entry));
                x += w;
            }
            let line_h = 22;
            let legend_h = if entries.is_empty() {
                0
            } else {
                lines.len() as u32 * line_h as u32 + 10
            };
            // The chart: time along x, one lane per process (the first at the top).
            let n = self.rows.len().max(1) as i32;
            let longest = self
                .rows
                .iter()
                .map(|r| {
                    root.estimate_text_size(&r.label, &label_style)
                        .map_or(0, |(w, _)| w)
                })
                .max()
                .unwrap_or(0);
            let (caption_h, axis_h) = (30, 40);
            let need_h = legend_h + caption_h + axis_h + 2 * margin as u32 + 16 * n as u32;
            let need_w = longest + 16 + 2 * margin as u32 + 160;
            if width < need_w || height < need_h {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "this timeline needs at least {need_w}x{need_h} pixels, not \
                         {width}x{height}"
                    ),
                ));
            }
            root.fill(&WHITE).map_err(to_io)?;
            let (upper, legend) = root.split_vertically(root.dim_in_pixel().1 - legend_h);
            for (n, line) in lines.iter().enumerate() {
                let y = 4 + n as i32 * line_h + line_h / 2;
                for &(x, entry) in line {
                    draw_symbol(&legend, entry, (x, y))?;
                    legend
                        .draw(&Text::new(
                            entry.label(),
                            (x + 22, y),
                            label_style.pos(Pos::new(HPos::Left, VPos::Center)),
                        ))
                        .map_err(to_io)?;
                }
            }

            let (t0, mut t1) = (self.start, self.end);
            if t1 <= t0 {
                t1 = t0 + 1.0;
            }
            // A little room after the end, for the markers there.
            let t1 = t1 + (t1 - t0) * 0.02;
            let labels: Vec<&str> = self.rows.iter().map(|r| r.label.as_str()).collect();
            let lane = |row: usize| n - 1 - row as i32;
            let mut chart = ChartBuilder::on(&upper)
                .caption(
                    "what each process waits on, over time",
                    (FONT, caption_h - 12),
                )
                .margin(margin as u32)
                .margin_top(6)
                .x_label_area_size(axis_h)
                .y_label_area_size(longest + 16)
                // An integer range is inclusive here: lanes 0 to n - 1.
                .build_cartesian_2d(t0..t1, (0..n - 1).into_segmented())
                .map_err(to_io)?;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .x_desc("time")
                .x_label_formatter(&|t| format!("{t}"))
                .y_labels(n as usize)
                .y_label_style(label_style.clone())
                .y_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => labels
                        .get((n - 1 - *i) as usize)
                        .map_or(String::new(), |s| (*s).to_owned()),
                    SegmentValue::Last => String::new(),
                })
                .light_line_style(RGBColor(0xe8, 0xe8, 0xe8))
                .draw()
                .map_err(to_io)?;

            // The bars, one series per colour.
            let lane_h = {
                let (_, y0) = chart.backend_coord(&(t0, SegmentValue::Exact(0)));
                let (_, y1) = chart.backend_coord(&(t0, SegmentValue::Exact(1)));
                (y0 - y1).abs()
            };
            let pad = (lane_h / 5).clamp(2, 16) as u32;
            for category in Category::ALL {
                let bars = self.rows.iter().enumerate().flat_map(|(r, row)| {
                    row.intervals
                        .iter()
                        .filter(move |i| i.end > i.start && Category::of(&i.state) == category)
                        .map(move |i| (r, i))
                });
                chart
                    .draw_series(bars.map(|(r, i)| {
                        let mut bar = Rectangle::new(
                            [
                                (i.start, SegmentValue::Exact(lane(r))),
                                (i.end, SegmentValue::Exact(lane(r) + 1)),
                            ],
                            color(category).filled(),
                        );
                        bar.set_margin(pad, pad, 0, 0);
                        bar
                    }))
                    .map_err(to_io)?;
            }
            // Thin white edges, so that back-to-back waits of one colour stay apart; and the
            // wait's label inside its bar where it fits.
            let font = (FONT, 12).into_font();
            for (r, row) in self.rows.iter().enumerate() {
                for i in row.intervals.iter().filter(|i| i.end > i.start) {
                    let (x0, y) = chart.backend_coord(&(i.start, SegmentValue::CenterOf(lane(r))));
                    let (x1, _) = chart.backend_coord(&(i.end, SegmentValue::CenterOf(lane(r))));
                    let top = y - lane_h / 2 + pad as i32;
                    let bottom = y + lane_h / 2 - pad as i32;
                    let edges = PathElement::new([(x0, top), (x0, bottom)], WHITE.stroke_width(1));
                    root.draw(&edges).map_err(to_io)?;
                    let text = bar_label(&i.state);
                    // Dark text on light bars, white on dark ones.
                    let (r, g, b) = Category::of(&i.state).rgb();
                    let light = 299 * r as u32 + 587 * g as u32 + 114 * b as u32 > 150_000;
                    let text_style = font.color(if light { &BLACK } else { &WHITE });
                    let (w, h) = root.estimate_text_size(&text, &text_style).map_err(to_io)?;
                    if (x1 - x0) > w as i32 + 8 && bottom - top > h as i32 {
                        root.draw(&Text::new(
                            text,
                            ((x0 + x1) / 2, y),
                            text_style.pos(Pos::new(HPos::Center, VPos::Center)),
                        ))
                        .map_err(to_io)?;
                    }
                }
            }
            // Markers on top of the bars.
            for (r, row) in self.rows.iter().enumerate() {
                for m in &row.markers {
                    let at = chart.backend_coord(&(m.time, SegmentValue::CenterOf(lane(r))));
                    draw_marker(root, m.kind, at, lane_h - 2 * pad as i32)?;
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handle::{ActivityId, QueueId};

    fn pid(idx: u32) -> Pid {
        Pid {
            sim: 1,
            idx,
            generation: 0,
        }
    }

    fn rec(time: f64, p: u32, name: &str, kind: TraceKind) -> Record {
        Record {
            time,
            pid: pid(p),
            name: name.to_owned(),
            kind,
        }
    }

    fn wait(on: WaitKind) -> TraceKind {
        TraceKind::Wait(Waiting { on, masked: false })
    }

    fn wake(kind: WakeKind) -> TraceKind {
        TraceKind::Wake(kind)
    }

    #[test]
    fn an_interrupted_sleep_is_cut_short_and_marked() {
        let records = [
            rec(0.0, 0, "w", wake(WakeKind::Started)),
            rec(0.0, 0, "w", wait(WaitKind::Sleep)),
            rec(4.0, 0, "w", wake(WakeKind::Interrupted)),
            rec(4.0, 0, "w", wait(WaitKind::Sleep)),
            rec(10.0, 0, "w", wake(WakeKind::Slept)),
            rec(10.0, 0, "w", TraceKind::Done),
        ];
        let t = Timeline::from_records(&records);
        assert_eq!((t.start(), t.end()), (0.0, 10.0));
        let [row] = t.rows() else { panic!("one row") };
        assert_eq!(row.label, "w");
        let sleep = Waiting {
            on: WaitKind::Sleep,
            masked: false,
        };
        assert_eq!(
            row.intervals,
            [
                Interval {
                    start: 0.0,
                    end: 4.0,
                    state: sleep,
                    ended_by: Some(WakeKind::Interrupted)
                },
                Interval {
                    start: 4.0,
                    end: 10.0,
                    state: sleep,
                    ended_by: Some(WakeKind::Slept)
                },
            ]
        );
        assert!(row.intervals[0].was_cut() && !row.intervals[1].was_cut());
        assert_eq!(
            row.markers,
            [
                Marker {
                    time: 4.0,
                    kind: MarkerKind::Interrupted
                },
                Marker {
                    time: 10.0,
                    kind: MarkerKind::Done
                }
            ]
        );
        assert!(row.finished());
    }

    #[test]
    fn a_masked_sleep_then_a_held_command_interrupted() {
        // A masked sleep [2, 6); an interrupt queued meanwhile is delivered at 6 instead of
        // starting the next command (which has no wait event): a marker, no interval.
        let masked = TraceKind::Wait(Waiting {
            on: WaitKind::Sleep,
            masked: true,
        });
        let records = [
            rec(2.0, 3, "", wake(WakeKind::Started)),
            rec(2.0, 3, "", masked),
            rec(6.0, 3, "", wake(WakeKind::Slept)),
            rec(6.0, 3, "", wake(WakeKind::Interrupted)),
            rec(6.0, 3, "", TraceKind::Done),
        ];
        let t = Timeline::from_records(&records);
        let row = &t.rows()[0];
        assert_eq!(row.label, "#3");
        assert_eq!(row.intervals.len(), 1);
        let i = row.intervals[0];
        assert_eq!((i.start, i.end, i.duration()), (2.0, 6.0, 4.0));
        assert!(i.state.masked && !i.was_cut());
        assert_eq!(i.ended_by, Some(WakeKind::Slept));
        let kinds: Vec<_> = row.markers.iter().map(|m| (m.time, m.kind)).collect();
        assert_eq!(
            kinds,
            [(6.0, MarkerKind::Interrupted), (6.0, MarkerKind::Done)]
        );
    }

    #[test]
    fn a_summons_cuts_a_get_and_the_activity_is_attended() {
        let q = QueueId { sim: 1, idx: 0 };
        let a = ActivityId { sim: 1, idx: 2 };
        let records = [
            rec(0.0, 0, "dev", wake(WakeKind::Started)),
            rec(0.0, 0, "dev", wait(WaitKind::Get(q))),
            rec(1.5, 0, "dev", wake(WakeKind::Summoned)),
            rec(1.5, 0, "dev", wait(WaitKind::Attend(a))),
            rec(3.0, 0, "dev", wake(WakeKind::ActivityOver)),
            rec(3.0, 0, "dev", wait(WaitKind::FirstOf { branches: 2 })),
            rec(5.0, 1, "other", wake(WakeKind::Started)),
        ];
        let t = Timeline::from_records(&records);
        let [dev, other] = t.rows() else {
            panic!("two rows")
        };
        let spans: Vec<_> = dev
            .intervals
            .iter()
            .map(|i| (i.start, i.end, i.state.on, i.ended_by))
            .collect();
        assert_eq!(
            spans,
            [
                (0.0, 1.5, WaitKind::Get(q), Some(WakeKind::Summoned)),
                (1.5, 3.0, WaitKind::Attend(a), Some(WakeKind::ActivityOver)),
                // Still pending when the trace ended, at 5.
                (3.0, 5.0, WaitKind::FirstOf { branches: 2 }, None),
            ]
        );
        assert_eq!(
            dev.markers,
            [Marker {
                time: 1.5,
                kind: MarkerKind::Summoned
            }]
        );
        assert!(other.intervals.is_empty() && other.markers.is_empty());
        let mut t = t;
        t.extend_to(8.0);
        assert_eq!(t.end(), 8.0);
        assert_eq!(t.rows()[0].intervals[2].end, 8.0);
        t.extend_to(7.0); // never earlier
        assert_eq!(t.end(), 8.0);
    }

    #[test]
    fn a_run_with_an_activity_gives_a_cut_sleep_then_an_attend_interval() {
        use crate::{
            Activity, Boxed, Command, Context, Interrupt, Process, Reason, Simulation, Wake,
        };
        struct Worker;
        impl Process<Boxed<()>> for Worker {
            fn step(&mut self, _: &mut Context<'_, Boxed<()>>, wake: Wake<()>) -> Command<()> {
                match wake {
                    Wake::Started => Command::Sleep(10.0),
                    Wake::Interrupted(Interrupt {
                        cause: Reason::Summoned(a),
                        ..
                    }) => Command::Attend(a),
                    _ => Command::Done,
                }
            }
        }
        let mut sim = Simulation::<Boxed<()>>::new(0);
        let log = TraceLog::with_waits();
        sim.observe(log.clone());
        let w = sim.spawn_named("w", Box::new(Worker));
        let standup = sim.plan(Activity::new(2.5).at(4.0).with_all([w])).unwrap();
        sim.run().unwrap();
        assert_eq!(
            log.to_csv(),
            "time,pid,name,event\n0,0,w,started\n0,0,w,wait:sleep\n4,0,w,summoned\n\
             4,0,w,wait:attend:a0\n6.5,0,w,activity-over\n6.5,0,w,done\n"
        );
        let t = Timeline::from_log(&log);
        let spans: Vec<_> = t.rows()[0]
            .intervals
            .iter()
            .map(|i| (i.start, i.end, i.state.on, i.was_cut()))
            .collect();
        assert_eq!(
            spans,
            [
                (0.0, 4.0, WaitKind::Sleep, true),
                (4.0, 6.5, WaitKind::Attend(standup), false)
            ]
        );
    }

    #[test]
    fn an_empty_trace_has_no_rows() {
        let t = Timeline::from_log(&TraceLog::with_waits());
        assert!(t.rows().is_empty());
        assert_eq!((t.start(), t.end()), (0.0, 0.0));
    }

    #[test]
    fn bar_labels_read_as_words() {
        let q = QueueId { sim: 1, idx: 4 };
        let label = |on, masked| bar_label(&Waiting { on, masked });
        assert_eq!(label(WaitKind::Sleep, true), "masked sleep");
        assert_eq!(label(WaitKind::Get(q), false), "get q4");
        assert_eq!(label(WaitKind::AllOf { branches: 3 }, false), "all-of 3");
        assert_eq!(
            Category::of(&Waiting {
                on: WaitKind::Get(q),
                masked: true
            }),
            Category::Masked
        );
    }

    #[cfg(feature = "plot")]
    #[test]
    fn the_svg_names_every_process_and_what_it_did() {
        let q = QueueId { sim: 1, idx: 0 };
        let records = [
            rec(0.0, 0, "worker", wait(WaitKind::Sleep)),
            rec(4.0, 0, "worker", wake(WakeKind::Interrupted)),
            rec(4.0, 0, "worker", wait(WaitKind::Get(q))),
            rec(9.0, 0, "worker", wake(WakeKind::Got)),
            rec(9.0, 0, "worker", TraceKind::Done),
            rec(0.0, 1, "boss", wait(WaitKind::Sleep)),
            rec(4.0, 1, "boss", wake(WakeKind::Slept)),
            rec(4.0, 1, "boss", TraceKind::Done),
        ];
        let svg = Timeline::from_records(&records)
            .to_svg(800, 260)
            .expect("drawn");
        assert!(svg.starts_with("<svg"), "{}", &svg[..60]);
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
        // The contents of the text elements.
        let texts: Vec<&str> = svg
            .split("</text>")
            .filter_map(|chunk| {
                let start = chunk.rfind("<text")?;
                let body = &chunk[start..];
                Some(body[body.find('>')? + 1..].trim())
            })
            .collect();
        for text in [
            "worker",
            "boss",
            "sleeping",
            "waiting to get",
            "interrupted",
            "done",
            "get q0",
        ] {
            assert!(texts.contains(&text), "{text} missing from {texts:?}");
        }
        assert!(Timeline::from_records(&records).to_svg(20, 20).is_err());
    }
}
