//! The report's egress section: every destination the run contacted, with
//! its bytes each way, and every address the egress policy refused, so that
//! an operator auditing a third-party run sees at a glance what it touched.

use maud::{Markup, html};
use molotov_metrics::{Destination, Report, si_bytes};

use crate::format::thousands;

pub(crate) fn section(report: &Report) -> Markup {
    let egress = &report.egress;
    if egress.contacted.is_empty() && egress.refused.is_empty() {
        return html! {};
    }
    html! {
        section {
            h2 { "Egress" }
            table #egress-contacted {
                tr { th { "contacted" } th { "address" } th.n { "connections" } th.n { "requests" }
                     th.n { "sent" } th.n { "received" } }
                @for contacted in &egress.contacted {
                    tr { (origin(&contacted.destination))
                         td.n { (thousands(contacted.connections)) }
                         td.n data-value=(contacted.requests) { (thousands(contacted.requests)) }
                         td.n data-value=(contacted.bytes_sent) { (si_bytes(contacted.bytes_sent as f64)) }
                         td.n data-value=(contacted.bytes_received) { (si_bytes(contacted.bytes_received as f64)) } }
                }
            }
            @if !egress.refused.is_empty() {
                h3 { "Refused by the egress policy" }
                table #egress-refused {
                    tr { th { "destination" } th { "address" } th { "rule" } th.n { "times" } }
                    @for refused in &egress.refused {
                        tr { (origin(&refused.destination))
                             td { (refused.rule) }
                             td.n data-value=(refused.count) { (thousands(refused.count)) } }
                    }
                }
            }
        }
    }
}

/// The origin and the address connected to, as two cells.
fn origin(destination: &Destination) -> Markup {
    html! {
        td { code { (destination.scheme) "://" (destination.host) ":" (destination.port) } }
        td { code { (destination.address) } }
    }
}
