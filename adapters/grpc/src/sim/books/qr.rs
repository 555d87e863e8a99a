//! Merchant-presented QRs at the reference partner: shown for an amount, paid by the customer
//! who scans it (by its payload or id, as a phone would), or walked away from.
use kakehashi_adapter_core::sim_control::SimError;
use kakehashi_adapter_core::{MerchantQr, Money};
use rust_decimal::Decimal;

use super::{Books, PAYMENTS_MAX, Payment, Refusal, Stage, charge};

// === impl Books ===

impl Books {
    /// A merchant-presented QR for an amount; idempotent by payment id.
    pub fn create_qr(
        &mut self,
        payment_id: &str,
        merchant_id: &str,
        amount: &Money,
        expires_at_ms: i64,
        network: &str,
    ) -> Result<MerchantQr, Refusal> {
        if let Some(p) = self.payments.get(payment_id) {
            let same = p.code.is_none() && p.merchant_id == merchant_id && p.amount == *amount;
            let Some(payload) = p.qr_payload.clone().filter(|_| same) else {
                return Err(Refusal::AlreadyExists(
                    "payment_id was used for another payment".into(),
                ));
            };
            return Ok(MerchantQr {
                qr_payload: payload,
                network_code_id: Some(p.network_txn_id.clone()),
                expires_at_ms: Some(expires_at_ms),
            });
        }
        if self.payments.len() >= PAYMENTS_MAX {
            return Err(Refusal::Full("the partner's books are full"));
        }
        if !self.rules.currencies.contains(&amount.currency()) {
            return Err(Refusal::Invalid {
                field: "amount.currency",
                detail: "is not one of the profile's currencies".into(),
            });
        }
        let network_txn_id = self.next_id('Q');
        let payload = format!("https://qr.{network}.sim.invalid/{network_txn_id}");
        self.payments.insert(
            payment_id.to_owned(),
            Payment {
                merchant_id: merchant_id.to_owned(),
                amount: *amount,
                code: None,
                network_txn_id: network_txn_id.clone(),
                qr_payload: Some(payload.clone()),
                wallet: None,
                wallet_amount: None,
                rate: Decimal::ONE,
                stage: Stage::QrShown {
                    expires_at_ms,
                    abandoned: false,
                },
                charged: false,
                refunded_minor: 0,
                wallet_refunded_minor: 0,
            },
        );
        Ok(MerchantQr {
            qr_payload: payload,
            network_code_id: Some(network_txn_id),
            expires_at_ms: Some(expires_at_ms),
        })
    }

    fn qr_payment(&self, qr: &str) -> Result<String, SimError> {
        self.payments
            .iter()
            .find(|(_, p)| {
                p.qr_payload.as_deref() == Some(qr) || (p.code.is_none() && p.network_txn_id == qr)
            })
            .map(|(id, _)| id.clone())
            .ok_or_else(|| {
                SimError::NotFound(format!(
                    "no QR with payload or id `{}`",
                    qr.chars().take(80).collect::<String>()
                ))
            })
    }

    /// The customer at the QR pays from the wallet, at once.
    pub fn pay_qr(&mut self, qr: &str, wallet_id: &str, now_ms: i64) -> Result<(), SimError> {
        let id = self.qr_payment(qr)?;
        self.settle(&id, now_ms);
        let Some(mut payment) = self.payments.remove(&id) else {
            return Err(SimError::NotFound("no such QR".into()));
        };
        let result = match payment.stage {
            Stage::QrShown {
                abandoned: false, ..
            } if self.wallets.contains_key(wallet_id) => {
                payment.wallet = Some(wallet_id.to_owned());
                payment.stage = self.price(&mut payment, wallet_id, now_ms);
                if let Stage::Confirming { .. } = payment.stage {
                    payment.stage = charge(&mut self.wallets, &mut payment);
                }
                match payment.stage {
                    Stage::Succeeded => Ok(()),
                    _ => Err(SimError::Refused("the wallet cannot pay this QR".into())),
                }
            }
            Stage::QrShown { .. } if !self.wallets.contains_key(wallet_id) => {
                Err(SimError::NotFound(format!(
                    "no wallet `{}`",
                    wallet_id.chars().take(64).collect::<String>()
                )))
            }
            _ => Err(SimError::Refused("the QR is no longer payable".into())),
        };
        self.payments.insert(id, payment);
        result
    }

    pub fn abandon_qr(&mut self, qr: &str) -> Result<(), SimError> {
        let id = self.qr_payment(qr)?;
        match self.payments.get_mut(&id).map(|p| &mut p.stage) {
            Some(Stage::QrShown { abandoned, .. }) => {
                *abandoned = true;
                Ok(())
            }
            _ => Err(SimError::Refused("the QR is no longer payable".into())),
        }
    }
}
