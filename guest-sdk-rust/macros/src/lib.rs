//! `#[molotov::scenarios]`: turns a module of plain Rust functions into the component's exports.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::{format_ident, quote};
use syn::{Attribute, Ident, Item, ItemFn, ItemMod, LitFloat, LitInt, LitStr, parse_macro_input};

/// The roles a function in a scenarios module can take, named by its attribute.
const FIXTURES: [&str; 7] = [
    "global_setup",
    "setup",
    "setup_session",
    "teardown_session",
    "teardown",
    "global_teardown",
    "picker",
];
const EVENT_KINDS: [&str; 6] = [
    "sending_request",
    "response_received",
    "current_workers",
    "scenario_start",
    "scenario_success",
    "scenario_failure",
];

/// Exports every `#[scenario]`, fixture (`#[setup]`, `#[teardown]`, …),
/// `#[picker]` and `#[events]` function of the module as the component.
///
/// ```ignore
/// #[molotov::scenarios]
/// mod load {
///     use molotov::prelude::*;
///     #[scenario(weight = 90, delay = 0.5)]
///     fn read(s: &Session) -> Result { s.get("/")?.expect_status(200)?; Ok(()) }
/// }
/// ```
#[proc_macro_attribute]
pub fn scenarios(args: TokenStream, input: TokenStream) -> TokenStream {
    if !args.is_empty() {
        return syn::Error::new(
            proc_macro2::Span::call_site(),
            "#[scenarios] takes no arguments",
        )
        .to_compile_error()
        .into();
    }
    let mut module = parse_macro_input!(input as ItemMod);
    match expand(&mut module) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

struct Scenario {
    function: Ident,
    /// An `async fn` taking an `AsyncSession`, rather than a plain `fn`.
    is_async: bool,
    name: String,
    weight: u32,
    delay_ms: u32,
}

#[derive(Default)]
struct Found {
    scenarios: Vec<Scenario>,
    fixtures: Vec<(String, Ident)>,
    events: Option<(Ident, Vec<String>)>,
}

fn expand(module: &mut ItemMod) -> syn::Result<Tokens> {
    let Some((_, items)) = module.content.as_mut() else {
        return Err(syn::Error::new_spanned(
            &module.ident,
            "#[scenarios] needs an inline module: `mod name { ... }`",
        ));
    };
    let mut found = Found::default();
    for item in items.iter_mut() {
        if let Item::Fn(function) = item {
            collect(function, &mut found)?;
        }
    }
    if found.scenarios.is_empty() {
        return Err(syn::Error::new_spanned(
            &module.ident,
            "this module has no #[scenario] function",
        ));
    }
    let generated: syn::File = syn::parse2(component(&found))?;
    items.extend(generated.items);
    Ok(quote! { #module })
}

/// Records what role `function` plays and strips the marker attribute.
fn collect(function: &mut ItemFn, found: &mut Found) -> syn::Result<()> {
    let mut kept: Vec<Attribute> = Vec::new();
    for attr in std::mem::take(&mut function.attrs) {
        let Some(role) = attr.path().get_ident().map(Ident::to_string) else {
            kept.push(attr);
            continue;
        };
        let ident = function.sig.ident.clone();
        let marked = role == "events" || FIXTURES.contains(&role.as_str());
        if marked && let Some(asyncness) = function.sig.asyncness {
            // Its future would be dropped unpolled: a call that did nothing.
            return Err(syn::Error::new_spanned(
                asyncness,
                format!(
                    "a #[{role}] function cannot be `async` (only a #[scenario] can): write a plain `fn`"
                ),
            ));
        }
        if role == "scenario" {
            let is_async = function.sig.asyncness.is_some();
            found.scenarios.push(scenario_args(&attr, ident, is_async)?);
        } else if role == "events" {
            let mut kinds = Vec::new();
            if !matches!(attr.meta, syn::Meta::Path(_)) {
                attr.parse_nested_meta(|meta| {
                    let kind = meta
                        .path
                        .get_ident()
                        .map(Ident::to_string)
                        .unwrap_or_default();
                    if !EVENT_KINDS.contains(&kind.as_str()) {
                        return Err(
                            meta.error(format!("unknown event kind; one of {EVENT_KINDS:?}"))
                        );
                    }
                    kinds.push(kind);
                    Ok(())
                })?;
            }
            if kinds.is_empty() {
                kinds = EVENT_KINDS.iter().map(|k| k.to_string()).collect();
            }
            if found.events.replace((ident, kinds)).is_some() {
                return Err(syn::Error::new_spanned(attr, "only one #[events] function"));
            }
        } else if FIXTURES.contains(&role.as_str()) {
            if found.fixtures.iter().any(|(r, _)| *r == role) {
                return Err(syn::Error::new_spanned(
                    attr,
                    format!("only one #[{role}] function"),
                ));
            }
            found.fixtures.push((role, ident));
        } else {
            kept.push(attr);
        }
    }
    function.attrs = kept;
    Ok(())
}

fn scenario_args(attr: &Attribute, function: Ident, is_async: bool) -> syn::Result<Scenario> {
    let mut scenario = Scenario {
        name: function.to_string(),
        function,
        is_async,
        weight: 1,
        delay_ms: 0,
    };
    if matches!(attr.meta, syn::Meta::Path(_)) {
        return Ok(scenario);
    }
    attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("weight") {
            scenario.weight = meta.value()?.parse::<LitInt>()?.base10_parse()?;
        } else if meta.path.is_ident("delay") {
            let seconds: f64 = meta.value()?.parse::<LitFloat>()?.base10_parse()?;
            scenario.delay_ms = (seconds * 1000.0).round() as u32;
        } else if meta.path.is_ident("name") {
            scenario.name = meta.value()?.parse::<LitStr>()?.value();
        } else {
            return Err(meta.error("expected `weight = N`, `delay = SECONDS` or `name = \"...\"`"));
        }
        Ok(())
    })?;
    Ok(scenario)
}

/// The `Guest` implementation: dispatch to the user's functions, defaults elsewhere.
fn component(found: &Found) -> Tokens {
    let infos = found.scenarios.iter().map(|s| {
        let (name, weight, delay_ms) = (&s.name, s.weight, s.delay_ms);
        quote! { ::molotov::__rt::ScenarioInfo { name: #name.to_string(), weight: #weight, delay_ms: #delay_ms } }
    });
    // The host names a scenario by its index in `describe`'s list.
    let arms = found.scenarios.iter().zip(0u32..).map(|(s, index)| {
        let function = &s.function;
        let run = if s.is_async {
            quote! { ::molotov::__rt::block_on(#function(&::molotov::AsyncSession::from_host(session))) }
        } else {
            quote! { #function(&::molotov::Session::from_host(session)) }
        };
        quote! { #index => ::molotov::__rt::outcome(#run), }
    });
    // On a shared instance each run is a task of the SDK's executor.
    let tasks = found.scenarios.iter().zip(0u32..).map(|(s, index)| {
        let function = &s.function;
        let run = if s.is_async {
            quote! { #function(&::molotov::AsyncSession::from_host(&session)).await }
        } else {
            quote! { #function(&::molotov::Session::from_host(&session)) }
        };
        quote! { #index => ::core::option::Option::Some(::molotov::__rt::task(async move { #run })), }
    });
    let every_scenario_is_async = found.scenarios.iter().all(|s| s.is_async);
    let fixture = |role: &str| {
        found
            .fixtures
            .iter()
            .find(|(r, _)| r == role)
            .map(|(_, f)| f)
    };
    let fixture_flags = found.fixtures.iter().map(|(role, _)| {
        let flag = format_ident!("{}", role.to_uppercase());
        quote! { | ::molotov::__rt::Fixtures::#flag }
    });
    let (event_fn, event_kinds) = match &found.events {
        Some((f, kinds)) => (Some(f), kinds.clone()),
        None => (None, Vec::new()),
    };
    let event_flags = event_kinds.iter().map(|k| {
        let flag = format_ident!("{}", k.to_uppercase());
        quote! { | ::molotov::__rt::EventKinds::#flag }
    });

    let global_setup = match fixture("global_setup") {
        Some(f) => quote! { ::molotov::__rt::outcome(#f(&args)) },
        None => quote! { { let _ = args; Ok(()) } },
    };
    let setup = match fixture("setup") {
        Some(f) => quote! { ::molotov::__rt::outcome(#f(worker_id, &args)) },
        None => quote! { { let _ = (worker_id, args); Ok(None) } },
    };
    let with_session = |role: &str| match fixture(role) {
        Some(f) => {
            quote! { ::molotov::__rt::outcome(#f(worker_id, &::molotov::Session::from_host(session))) }
        }
        None => quote! { { let _ = (worker_id, session); Ok(()) } },
    };
    let (setup_session, teardown_session) = (
        with_session("setup_session"),
        with_session("teardown_session"),
    );
    let teardown = match fixture("teardown") {
        Some(f) => quote! { ::molotov::__rt::outcome(#f(worker_id)) },
        None => quote! { { let _ = worker_id; Ok(()) } },
    };
    let global_teardown = match fixture("global_teardown") {
        Some(f) => quote! { ::molotov::__rt::outcome(#f()) },
        None => quote! { Ok(()) },
    };
    let pick = match fixture("picker") {
        Some(f) => quote! { ::std::string::ToString::to_string(&#f(worker_id, step)) },
        None => quote! { { let _ = (worker_id, step); ::std::string::String::new() } },
    };
    let on_events = match event_fn {
        Some(f) => quote! { for event in &events { #f(event) } },
        None => quote! { { let _ = events; } },
    };

    quote! {
        #[doc(hidden)]
        pub struct __MolotovComponent;

        ::molotov::bindings::__export_component!(__MolotovComponent);

        impl ::molotov::__rt::Guest for __MolotovComponent {
            fn describe() -> ::molotov::__rt::Description {
                ::molotov::__rt::Description {
                    scenarios: ::std::vec![#(#infos),*],
                    fixtures: ::molotov::__rt::Fixtures::empty() #(#fixture_flags)*,
                    events: ::molotov::__rt::EventKinds::empty() #(#event_flags)*,
                }
            }
            fn run(index: u32, session: &::molotov::__rt::HostSession) -> ::core::result::Result<(), ::std::string::String> {
                match index {
                    #(#arms)*
                    other => ::molotov::__rt::unknown_scenario(other),
                }
            }
            fn global_setup(args: ::molotov::RunArgs) -> ::core::result::Result<(), ::std::string::String> {
                #global_setup
            }
            fn setup(worker_id: u32, args: ::molotov::RunArgs) -> ::core::result::Result<::core::option::Option<::molotov::SessionOptions>, ::std::string::String> {
                #setup
            }
            fn setup_session(worker_id: u32, session: &::molotov::__rt::HostSession) -> ::core::result::Result<(), ::std::string::String> {
                #setup_session
            }
            fn teardown_session(worker_id: u32, session: &::molotov::__rt::HostSession) -> ::core::result::Result<(), ::std::string::String> {
                #teardown_session
            }
            fn teardown(worker_id: u32) -> ::core::result::Result<(), ::std::string::String> {
                #teardown
            }
            fn global_teardown() -> ::core::result::Result<(), ::std::string::String> {
                #global_teardown
            }
            fn pick(worker_id: u32, step: u64) -> ::std::string::String {
                #pick
            }
            fn on_events(events: ::std::vec::Vec<::molotov::Event>) {
                #on_events
            }
        }

        impl ::molotov::__rt::DriverGuest for __MolotovComponent {
            fn capacity() -> u32 {
                ::molotov::__rt::capacity(#every_scenario_is_async)
            }
            fn drive() -> ::core::result::Result<(), ::std::string::String> {
                ::molotov::__rt::drive(|index, session| match index {
                    #(#tasks)*
                    _ => ::core::option::Option::None,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_async_fixture_is_refused_with_a_reason() {
        let mut module: ItemMod = syn::parse_quote! {
            mod scenarios {
                #[scenario]
                async fn read(session: &AsyncSession) -> Result<()> { Ok(()) }
                #[setup]
                async fn forgot(worker_id: u32, args: &RunArgs) -> Result<()> { Ok(()) }
            }
        };
        let error = expand(&mut module).expect_err("refused");
        assert!(error.to_string().contains("cannot be `async`"), "{error}");
    }
}
