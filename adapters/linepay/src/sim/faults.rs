//! Fault injection: make the simulator slow, silent, broken or declining on purpose, for
//! the next N requests of an operation or until cleared.
use std::collections::VecDeque;

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    Pay,
    Check,
    Void,
    Refund,
    /// Every operation.
    Any,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Answer normally, `ms` late.
    Delay { ms: u64 },
    /// Never answer and never process: the request is lost on the way in.
    Hang,
    /// Process the request (money moves), then never answer: the reply is lost.
    HangAfterProcessing,
    /// Answer with this HTTP status and an HTML error page.
    HttpStatus { status: u16 },
    /// Answer 200 with a body that is not JSON.
    Garbled,
    /// Refuse with this LINE Pay return code (HTTP 200), moving nothing.
    Decline { return_code: String },
}

#[derive(Debug)]
struct Rule {
    operation: Operation,
    fault: Fault,
    /// `None`: until cleared.
    remaining: Option<u32>,
}

#[derive(Debug, Default)]
pub(super) struct FaultQueue {
    rules: VecDeque<Rule>,
}

impl FaultQueue {
    pub fn push(&mut self, operation: Operation, fault: Fault, remaining: Option<u32>) {
        if self.rules.len() >= super::FAULTS_MAX {
            self.rules.pop_front();
        }
        self.rules.push_back(Rule {
            operation,
            fault,
            remaining,
        });
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// The first rule that applies to `operation`, counting one use of it.
    pub fn take(&mut self, operation: Operation) -> Option<Fault> {
        let index = self
            .rules
            .iter()
            .position(|r| r.operation == operation || r.operation == Operation::Any)?;
        let rule = self.rules.get_mut(index)?;
        let fault = rule.fault.clone();
        if let Some(remaining) = rule.remaining.as_mut() {
            *remaining = remaining.saturating_sub(1);
            if *remaining == 0 {
                self.rules.remove(index);
            }
        }
        Some(fault)
    }
}
