//! How the demo's report is laid out on screen: the narrow layout fits a 120-column
//! terminal (long cells wrap within their column, the detail goes on its own wrapped lines
//! beneath each scenario); the wide layout keeps the whole table, one line per scenario.
//! Widths count characters: every string the demo prints is narrow (no CJK wide glyphs).

/// Widest line the narrow layout prints.
pub const LINE_WIDTH_MAX: usize = 120;
/// The detail lines start under the scenario column.
const DETAIL_INDENT: usize = 3;
/// The order column: an order id longer than it (a partner payment's switch-made
/// `partner-…` id) is cut in the narrow layout rather than wrapped down the page.
const ORDER_COLUMN: usize = 2;

/// Which way to print the scenarios.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Layout {
    /// Fits in [`LINE_WIDTH_MAX`] columns: cells wrap, the detail goes beneath.
    #[default]
    Narrow,
    /// Every column on one line, as wide as the content makes it (`kakehashi demo --wide`).
    Wide,
}

/// One scenario's printed cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub scenario: String,
    pub order: String,
    pub network: String,
    pub amount: String,
    pub state: String,
    pub expected: String,
    pub detail: String,
}

/// A column of the scenario table: its title and width in each layout.
struct Column {
    title: &'static str,
    narrow: usize,
    wide: usize,
}

/// The scenario table's columns, in order, before the detail. The narrow widths and their
/// separators sum to 119: within [`LINE_WIDTH_MAX`].
const COLUMNS: [Column; 7] = [
    Column {
        title: "#",
        narrow: 2,
        wide: 3,
    },
    Column {
        title: "scenario",
        narrow: 48,
        wide: 54,
    },
    Column {
        title: "order",
        narrow: 9,
        wide: 11,
    },
    Column {
        title: "network / wallet",
        narrow: 25,
        wide: 26,
    },
    Column {
        title: "amount",
        narrow: 8,
        wide: 10,
    },
    Column {
        title: "state",
        narrow: 18,
        wide: 19,
    },
    Column {
        title: "ok",
        narrow: 2,
        wide: 3,
    },
];

const _: () = {
    let mut total = 0;
    let mut i = 0;
    while i < COLUMNS.len() {
        total += COLUMNS[i].narrow + 1;
        i += 1;
    }
    assert!(total <= LINE_WIDTH_MAX);
    assert!(DETAIL_INDENT < LINE_WIDTH_MAX / 2);
};

// === impl Row ===

impl Row {
    /// The script meant this scenario to end where it did.
    pub fn ok(&self) -> bool {
        self.state == self.expected
    }

    fn cells(&self, number: usize) -> [String; 7] {
        let (state, ok) = if self.ok() {
            (self.state.clone(), "✓")
        } else {
            (format!("{} (want {})", self.state, self.expected), "✗")
        };
        [
            number.to_string(),
            self.scenario.clone(),
            self.order.clone(),
            self.network.clone(),
            self.amount.clone(),
            state,
            ok.to_owned(),
        ]
    }
}

// === impl Layout ===

impl Layout {
    pub fn header(self) -> Vec<String> {
        let titles = COLUMNS.map(|c| c.title.to_owned());
        match self {
            Self::Narrow => self.table_lines(&titles, ""),
            Self::Wide => vec![self.wide_line(&titles, "detail")],
        }
    }

    /// The lines for scenario `number` (counting from 1).
    pub fn row(self, number: usize, row: &Row) -> Vec<String> {
        let mut cells = row.cells(number);
        match self {
            Self::Narrow => {
                cells[ORDER_COLUMN] = shorten(&cells[ORDER_COLUMN], COLUMNS[ORDER_COLUMN].narrow);
                self.table_lines(&cells, &row.detail)
            }
            Self::Wide => vec![self.wide_line(&cells, &row.detail)],
        }
    }

    /// Narrow: each cell wrapped within its column, then the detail wrapped beneath.
    fn table_lines(self, cells: &[String; 7], detail: &str) -> Vec<String> {
        let wrapped: Vec<Vec<String>> = COLUMNS
            .iter()
            .zip(cells)
            .map(|(column, cell)| wrap(cell, column.narrow))
            .collect();
        let height = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        let mut lines = Vec::with_capacity(height + 2);
        for i in 0..height {
            let mut line = String::new();
            for (column, cell) in COLUMNS.iter().zip(&wrapped) {
                let text = cell.get(i).map(String::as_str).unwrap_or("");
                line.push_str(&pad(text, column.narrow));
                line.push(' ');
            }
            lines.push(line.trim_end().to_owned());
        }
        let indent = " ".repeat(DETAIL_INDENT);
        if !detail.is_empty() {
            for part in wrap(detail, LINE_WIDTH_MAX - DETAIL_INDENT) {
                lines.push(format!("{indent}{part}"));
            }
        }
        lines
    }

    /// Wide: every cell at its column's width (longer ones push the rest right), then the
    /// detail, on one line.
    fn wide_line(self, cells: &[String; 7], detail: &str) -> String {
        let mut line = String::new();
        for (column, cell) in COLUMNS.iter().zip(cells) {
            line.push_str(&pad(cell, column.wide));
            line.push(' ');
        }
        line.push_str(detail);
        line.trim_end().to_owned()
    }
}

/// `text` padded with spaces to `width` characters (never cut).
fn pad(text: &str, width: usize) -> String {
    let mut padded = text.to_owned();
    let length = text.chars().count();
    if length < width {
        padded.push_str(&" ".repeat(width - length));
    }
    padded
}

/// `text` cut to `width` characters, the last one an ellipsis when anything was cut.
fn shorten(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Greedy word wrap to lines of at most `width` characters; a word longer than a line is
/// cut. Always at least one line (empty for empty text).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut line_length = 0;
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > width {
            if line_length > 0 {
                lines.push(std::mem::take(&mut line));
                line_length = 0;
            }
            let rest = word.split_off(width);
            lines.push(word.into_iter().collect());
            word = rest;
        }
        let needed = if line_length == 0 {
            word.len()
        } else {
            line_length + 1 + word.len()
        };
        if needed > width {
            lines.push(std::mem::take(&mut line));
            line_length = 0;
        }
        if line_length > 0 {
            line.push(' ');
            line_length += 1;
        }
        line.extend(word.iter());
        line_length += word.len();
    }
    if line_length > 0 || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_order_id_is_cut_in_the_narrow_layout_and_whole_in_the_wide_one() {
        let row = Row {
            scenario: "static QR".into(),
            order: "partner-a66d4edda0036390630132abe08b".into(),
            network: "kpay / KPay".into(),
            amount: "JPY 1500".into(),
            state: "SUCCEEDED".into(),
            expected: "SUCCEEDED".into(),
            detail: String::new(),
        };
        let narrow = Layout::Narrow.row(1, &row);
        assert_eq!(narrow.len(), 1, "{narrow:?}");
        assert!(narrow[0].contains(" partner-… "), "{narrow:?}");
        let wide = Layout::Wide.row(1, &row);
        assert!(wide[0].contains(&row.order), "{wide:?}");
        assert_eq!(shorten("shift-001", 9), "shift-001");
    }

    #[test]
    fn wrapping_keeps_every_word_and_every_line_within_the_width() {
        let text = "no reply from LINE Pay, check found nothing, voided; 0123456789ABCDEFGHIJ";
        let lines = wrap(text, 12);
        assert!(lines.iter().all(|l| l.chars().count() <= 12), "{lines:?}");
        assert_eq!(
            lines.concat().replace(' ', ""),
            text.replace(' ', ""),
            "nothing lost"
        );
        assert_eq!(wrap("", 5), vec![String::new()]);
        assert_eq!(wrap("ab cd", 5), vec!["ab cd".to_owned()]);
    }
}
