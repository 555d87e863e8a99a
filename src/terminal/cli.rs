//! `kakehashi terminal`'s subcommands: what each sends, what it prints, and the exit status
//! that tells a script how the payment (or refund) ended.
use std::time::Duration;

use clap::Subcommand;
use kakehashi_proto::v1 as pb;

use super::{Terminal, describe, describe_refund, state_name};

/// The exit statuses, shown in every subcommand's help and in the README.
pub const EXIT_STATUS_HELP: &str = "\
Exit status:
  0  done: the payment succeeded (cancel: it is reversed or refunded; refund: the refund
     succeeded)
  1  the command failed: bad flags, the switch unreachable, or the request refused (the
     switch's gRPC status is printed)
  2  declined: the network declined the payment (refund: the refund); nothing moved
  3  not settled yet: still in doubt when the command stopped waiting (qr and watch give up
     after --timeout); follow it with `kakehashi terminal watch --order-id ...`
  4  reversed: the payment was voided and nobody was charged (the reason is printed)";

/// Longest `--timeout` a watch takes, in seconds: a day, far past any payment's deadline.
const FOLLOW_TIMEOUT_S_MAX: u64 = 86_400;

/// What a subcommand tells a script, as its exit status (see [`EXIT_STATUS_HELP`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Failed,
    Declined,
    NotSettled,
    Reversed,
}

#[derive(Debug, Subcommand)]
pub enum TerminalAction {
    /// Charge a customer-presented code: the cashier scanned the code on the customer's
    /// phone. Prints the payment as the switch answers it.
    #[command(after_help = EXIT_STATUS_HELP)]
    Pay {
        /// The scanned code, as the wallet shows it (digits).
        #[arg(long)]
        code: String,
        /// The amount as an exact decimal: 1200 for ¥1,200; 12.50 in a currency with cents.
        #[arg(long)]
        amount: String,
        /// ISO 4217 currency of the amount.
        #[arg(long, default_value = "JPY")]
        currency: String,
        /// Idempotency key: send the same one again to retry safely. A fresh one is made
        /// (and printed at the start of the line) when omitted.
        #[arg(long)]
        order_id: Option<String>,
        /// Text the wallet shows the customer, at most 128 characters.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Show a merchant-presented QR for the customer to scan, then follow the payment,
    /// printing each state once, until it settles or --timeout passes.
    #[command(after_help = EXIT_STATUS_HELP)]
    Qr {
        /// The network to present the QR for, e.g. paypay.
        #[arg(long)]
        network: String,
        /// The amount as an exact decimal: 1200 for ¥1,200; 12.50 in a currency with cents.
        #[arg(long)]
        amount: String,
        /// ISO 4217 currency of the amount.
        #[arg(long, default_value = "JPY")]
        currency: String,
        /// Idempotency key; a fresh one is made (and printed) when omitted.
        #[arg(long)]
        order_id: Option<String>,
        /// Text the wallet shows the customer, at most 128 characters.
        #[arg(long, default_value = "")]
        description: String,
        /// Seconds to wait for the customer before giving up (the QR stays payable until
        /// the switch closes it at its deadline).
        #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=FOLLOW_TIMEOUT_S_MAX))]
        timeout: u64,
    },
    /// Show a payment's current state, its refunds and why it is where it is.
    #[command(after_help = EXIT_STATUS_HELP)]
    Get {
        /// The payment's idempotency key, as given to (or printed by) pay or qr.
        #[arg(long)]
        order_id: String,
    },
    /// Follow a payment, printing each state once, until it settles or --timeout passes.
    /// With --static-code, wait for the next payment a partner wallet makes on this till's
    /// static merchant code, then follow it.
    #[command(after_help = EXIT_STATUS_HELP)]
    Watch {
        /// The payment's idempotency key, as given to (or printed by) pay or qr.
        #[arg(long, required_unless_present = "static_code")]
        order_id: Option<String>,
        /// Follow the next payment on this till's static code instead of a known payment.
        #[arg(long, conflicts_with = "order_id")]
        static_code: bool,
        /// Seconds to follow the payment before giving up.
        #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=FOLLOW_TIMEOUT_S_MAX))]
        timeout: u64,
    },
    /// Void a payment: one still in doubt is reversed, a succeeded one without refunds is
    /// returned to the customer in full.
    #[command(after_help = EXIT_STATUS_HELP)]
    Cancel {
        /// The payment's idempotency key, as given to (or printed by) pay or qr.
        #[arg(long)]
        order_id: String,
        /// Why, kept with the payment's history (at most 128 characters).
        #[arg(long, default_value = "cancelled at the till")]
        reason: String,
    },
    /// Refund part or all of a succeeded payment. Prints the refund (its id, amount and
    /// state), then the payment.
    #[command(after_help = EXIT_STATUS_HELP)]
    Refund {
        /// The payment's idempotency key, as given to (or printed by) pay or qr.
        #[arg(long)]
        order_id: String,
        /// Idempotency key of this refund: send the same one again to retry safely. A fresh
        /// one is made (and printed) when omitted.
        #[arg(long)]
        refund_id: Option<String>,
        /// The amount to refund as an exact decimal; omit for a full refund of what remains.
        #[arg(long)]
        amount: Option<String>,
        /// ISO 4217 currency of --amount.
        #[arg(long, default_value = "JPY")]
        currency: String,
        /// Why, kept beside the refund (at most 128 characters).
        #[arg(long, default_value = "")]
        reason: String,
    },
}

/// How following a payment ended.
struct Followed {
    last: Option<pb::Payment>,
    timed_out: bool,
}

// === impl Outcome ===

impl Outcome {
    pub fn exit_status(self) -> u8 {
        match self {
            Self::Done => 0,
            Self::Failed => 1,
            Self::Declined => 2,
            Self::NotSettled => 3,
            Self::Reversed => 4,
        }
    }

    /// A payment's state as a script should read it.
    fn of_payment(p: &pb::Payment) -> Self {
        use pb::PaymentState as S;
        match S::try_from(p.state) {
            Ok(S::Succeeded | S::PartiallyRefunded | S::Refunded) => Self::Done,
            Ok(S::Declined) => Self::Declined,
            Ok(S::Reversed) => Self::Reversed,
            _ => Self::NotSettled,
        }
    }

    /// After a cancel, reversed or refunded is what was asked for.
    fn of_cancel(p: &pb::Payment) -> Self {
        use pb::PaymentState as S;
        match S::try_from(p.state) {
            Ok(S::Reversed | S::Refunded) => Self::Done,
            Ok(S::Declined) => Self::Declined,
            _ => Self::NotSettled,
        }
    }

    fn of_refund(r: &pb::Refund) -> Self {
        match pb::RefundState::try_from(r.state) {
            Ok(pb::RefundState::Succeeded) => Self::Done,
            Ok(pb::RefundState::Declined) => Self::Declined,
            _ => Self::NotSettled,
        }
    }
}

/// Runs one subcommand, printing what happened on stdout (hints on stderr). `Err` is a
/// request the switch refused or could not serve: exit status 1.
pub async fn run(terminal: &mut Terminal, action: TerminalAction) -> Result<Outcome, String> {
    let fresh_order = || crate::domain::new_id("ord");
    match action {
        TerminalAction::Pay {
            code,
            amount,
            currency,
            order_id,
            description,
        } => {
            let order_id = order_id.unwrap_or_else(fresh_order);
            let paid = terminal
                .pay_with_description(&order_id, &amount, &currency, &code, &description)
                .await
                .map_err(status)?;
            println!("{}", describe(&paid));
            let outcome = Outcome::of_payment(&paid);
            if outcome == Outcome::NotSettled {
                eprintln!("{}", still_open(&paid, None));
            }
            Ok(outcome)
        }
        TerminalAction::Qr {
            network,
            amount,
            currency,
            order_id,
            description,
            timeout,
        } => {
            let order_id = order_id.unwrap_or_else(fresh_order);
            let shown = terminal
                .create_qr_with_description(&order_id, &amount, &currency, &network, &description)
                .await
                .map_err(status)?;
            println!("{}", describe(&shown));
            let followed = follow(terminal, Some(&order_id), Some(shown.state), timeout).await?;
            Ok(settle(followed, Some(shown), timeout))
        }
        TerminalAction::Get { order_id } => {
            let payment = terminal.get(&order_id).await.map_err(status)?;
            println!("{}", describe(&payment));
            Ok(Outcome::of_payment(&payment))
        }
        TerminalAction::Watch {
            order_id,
            static_code,
            timeout,
        } => {
            let target = if static_code {
                None
            } else {
                order_id.as_deref()
            };
            let followed = follow(terminal, target, None, timeout).await?;
            if followed.last.is_none() && !followed.timed_out {
                let what = target.unwrap_or("the static code");
                return Err(format!("the switch sent no state for {what}"));
            }
            Ok(settle(followed, None, timeout))
        }
        TerminalAction::Cancel { order_id, reason } => {
            let payment = terminal
                .cancel_with_reason(&order_id, &reason)
                .await
                .map_err(status)?;
            println!("{}", describe(&payment));
            Ok(Outcome::of_cancel(&payment))
        }
        TerminalAction::Refund {
            order_id,
            refund_id,
            amount,
            currency,
            reason,
        } => {
            let refund_id = refund_id.unwrap_or_else(|| crate::domain::new_id("ref"));
            let amount = amount.as_deref().map(|a| (a, currency.as_str()));
            let reply = terminal
                .refund_with_reason(&order_id, &refund_id, amount, &reason)
                .await
                .map_err(status)?;
            let refund = reply
                .refund
                .clone()
                .or_else(|| {
                    let payment = reply.payment.as_ref()?;
                    payment
                        .refunds
                        .iter()
                        .find(|r| r.refund_id == refund_id)
                        .cloned()
                })
                .ok_or_else(|| format!("the switch answered without refund {refund_id}"))?;
            println!("{}", describe_refund(&order_id, &refund));
            if let Some(payment) = &reply.payment {
                println!("{}", describe(payment));
            }
            Ok(Outcome::of_refund(&refund))
        }
    }
}

/// Follows the payment's states for at most `timeout_s`, printing each state once:
/// `printed` is the state already on screen.
/// Follows `order_id`, or (with `None`) the next payment on the till's static code.
async fn follow(
    terminal: &mut Terminal,
    order_id: Option<&str>,
    mut printed: Option<i32>,
    timeout_s: u64,
) -> Result<Followed, String> {
    let mut last = None;
    let on_state = |p: &pb::Payment| {
        if printed != Some(p.state) {
            println!("{}", describe(p));
            printed = Some(p.state);
        }
        last = Some(p.clone());
    };
    let watch = async {
        match order_id {
            Some(id) => terminal.watch(id, on_state).await,
            None => terminal.watch_static_code(on_state).await,
        }
    };
    let watched = tokio::time::timeout(Duration::from_secs(timeout_s), watch).await;
    match watched {
        Ok(Ok(_)) => Ok(Followed {
            last,
            timed_out: false,
        }),
        Ok(Err(s)) => Err(status(s)),
        Err(_) => Ok(Followed {
            last,
            timed_out: true,
        }),
    }
}

/// The outcome of a followed payment; says so on stderr when it is still open.
fn settle(followed: Followed, shown: Option<pb::Payment>, timeout_s: u64) -> Outcome {
    let Some(last) = followed.last.or(shown) else {
        eprintln!("kakehashi: gave up after {timeout_s} s: the switch sent no state yet");
        return Outcome::NotSettled;
    };
    let outcome = Outcome::of_payment(&last);
    if outcome == Outcome::NotSettled {
        let waited = followed.timed_out.then_some(timeout_s);
        eprintln!("{}", still_open(&last, waited));
    }
    outcome
}

/// What to tell a person whose payment is still open, and what they can do next.
fn still_open(p: &pb::Payment, waited_s: Option<u64>) -> String {
    let order = &p.merchant_order_id;
    let why = match waited_s {
        Some(s) => format!("gave up waiting after {s} s"),
        None => "not settled yet".to_owned(),
    };
    format!(
        "kakehashi: {why}: {order} is still {}. The switch keeps working on it until its \
         deadline; follow it with `kakehashi terminal watch --order-id {order}` or void it \
         with `kakehashi terminal cancel --order-id {order}`.",
        state_name(p.state)
    )
}

fn status(s: tonic::Status) -> String {
    format!("{:?}: {}", s.code(), s.message())
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        action: TerminalAction,
    }

    #[test]
    fn every_subcommand_and_flag_says_what_it_is_for() {
        let command = Cli::command();
        let mut subcommands = 0;
        for sub in command.get_subcommands() {
            subcommands += 1;
            assert!(sub.get_about().is_some(), "{} has no help", sub.get_name());
            assert!(
                sub.get_after_help()
                    .is_some_and(|h| h.to_string().contains("Exit status")),
                "{} documents the exit status",
                sub.get_name()
            );
            for arg in sub.get_arguments() {
                assert!(
                    arg.get_help().is_some(),
                    "{} --{} has no help",
                    sub.get_name(),
                    arg.get_id()
                );
            }
        }
        assert_eq!(subcommands, 6);
    }

    #[test]
    fn a_script_can_tell_a_decline_from_a_failure_and_a_success() {
        let payment = |state: pb::PaymentState| pb::Payment {
            state: state as i32,
            ..Default::default()
        };
        use pb::PaymentState as S;
        assert_eq!(Outcome::of_payment(&payment(S::Succeeded)), Outcome::Done);
        assert_eq!(
            Outcome::of_payment(&payment(S::Declined)),
            Outcome::Declined
        );
        assert_eq!(
            Outcome::of_payment(&payment(S::Reversed)),
            Outcome::Reversed
        );
        assert_eq!(
            Outcome::of_payment(&payment(S::AwaitingCustomer)),
            Outcome::NotSettled
        );
        assert_eq!(Outcome::of_cancel(&payment(S::Reversed)), Outcome::Done);
        let statuses = [
            Outcome::Done,
            Outcome::Failed,
            Outcome::Declined,
            Outcome::NotSettled,
            Outcome::Reversed,
        ]
        .map(Outcome::exit_status);
        assert_eq!(statuses, [0, 1, 2, 3, 4]);
    }
}
