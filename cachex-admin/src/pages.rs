//! The pages, as maud templates: HTML checked when the crate compiles, every interpolated
//! value escaped. No script, no asset from elsewhere: one small inline stylesheet.

use cachex::Ttl;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::store::{Content, EDITABLE, Item, KeyView, SHOWN, ttl_text};

/// The stylesheet, inline.
const STYLE: &str = "
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d2329;background:#f6f7f9}
header{background:#23303d;color:#fff;padding:.6em 1.2em}header a{color:#fff}
nav a{margin-right:1em}main{padding:1em 1.2em;max-width:72em}
table{border-collapse:collapse;background:#fff;width:100%;margin:.5em 0}
th,td{border:1px solid #d5d9de;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#eceff2}code,pre,td.v{font-family:ui-monospace,monospace;font-size:13px;white-space:pre-wrap;word-break:break-all}
.msg{padding:.6em 1em;border-radius:4px;margin:.6em 0}.ok{background:#e3f4e1;border:1px solid #7bbf72}
.err{background:#fbe4e4;border:1px solid #d26b6b}.raw{color:#8a4b00}
fieldset{background:#fff;border:1px solid #d5d9de;margin:.6em 0}
.danger{border:2px solid #c0392b}.danger legend{color:#c0392b;font-weight:bold}
button{cursor:pointer}label{margin-right:.8em}input[type=text]{min-width:14em}
form.inline{display:inline;margin:0}.muted{color:#68727d}
:focus-visible{outline:3px solid #2f7de1;outline-offset:1px}
";

/// What every page needs from the router.
pub(crate) struct Frame<'a> {
    /// Where the router is mounted (no trailing slash).
    pub(crate) base: &'a str,
    /// The CSRF token of this browser.
    pub(crate) token: &'a str,
    /// Whether edits are off.
    pub(crate) read_only: bool,
}

/// A message at the top of a page.
pub(crate) enum Notice {
    None,
    Done(String),
    Error(String),
}

/// The page around `body`.
pub(crate) fn page(frame: &Frame<'_>, title: &str, notice: &Notice, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · cachex admin" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header { nav aria-label="main" { a href=(home(frame)) { "cachex admin" } } }
                main {
                    h1 { (title) }
                    @if frame.read_only {
                        p.muted { "Read-only: this admin was built for local use, without edits." }
                    }
                    @match notice {
                        Notice::None => {},
                        Notice::Done(text) => p.msg.ok role="status" { (text) },
                        Notice::Error(text) => p.msg.err role="alert" { (text) },
                    }
                    (body)
                }
            }
        }
    }
}

/// The list of caches' address: the mount path itself (axum's `nest` serves it there).
fn home(frame: &Frame<'_>) -> String {
    if frame.base.is_empty() {
        "/".to_owned()
    } else {
        frame.base.to_owned()
    }
}

/// The hidden CSRF field of a form.
pub(crate) fn csrf(frame: &Frame<'_>) -> Markup {
    html! { input type="hidden" name=(crate::csrf::FIELD) value=(frame.token); }
}

/// One cache of the list.
pub(crate) struct CacheRow {
    pub(crate) name: String,
    pub(crate) backend: String,
    pub(crate) location: String,
}

/// The list of caches.
pub(crate) fn index(frame: &Frame<'_>, caches: &[CacheRow]) -> Markup {
    page(
        frame,
        "Caches",
        &Notice::None,
        html! {
            table {
                thead { tr { th { "Cache" } th { "Backend" } th { "Location" } th { "Pages" } } }
                tbody {
                    @for cache in caches {
                        tr {
                            td { (cache.name) }
                            td { (cache.backend) }
                            td { code { (cache.location) } }
                            td {
                                a href={ (frame.base) "/" (cache.name) "/keys" } { "Keys" } " · "
                                a href={ (frame.base) "/" (cache.name) "/server" } { "Server" }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// The navigation of a cache's pages.
fn cache_nav(frame: &Frame<'_>, cache: &str) -> Markup {
    html! {
        nav aria-label="cache" {
            a href=(home(frame)) { "All caches" }
            a href={ (frame.base) "/" (cache) "/keys" } { "Keys of " (cache) }
            a href={ (frame.base) "/" (cache) "/server" } { "Server" }
        }
    }
}

/// A key in a URL's query.
pub(crate) fn key_query(key: &str) -> String {
    form_urlencoded::byte_serialize(key.as_bytes()).collect()
}

/// One row of the key browser.
pub(crate) struct KeyRow {
    pub(crate) key: String,
    pub(crate) kind: String,
    pub(crate) ttl: Ttl,
}

/// What the key browser shows.
pub(crate) struct Browser<'a> {
    pub(crate) cache: &'a str,
    pub(crate) search: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) page: usize,
    pub(crate) pages: usize,
    pub(crate) matched: usize,
    pub(crate) capped: bool,
    pub(crate) rows: Vec<KeyRow>,
}

/// The types a key can be filtered by and added as.
const TYPES: [&str; 6] = ["string", "hash", "list", "set", "zset", "stream"];

/// The key browser.
pub(crate) fn browser(frame: &Frame<'_>, notice: &Notice, view: &Browser<'_>) -> Markup {
    let cache = view.cache;
    let link = |page: usize| {
        format!(
            "{}/{cache}/keys?q={}&type={}&page={page}",
            frame.base,
            key_query(view.search),
            key_query(view.kind)
        )
    };
    page(
        frame,
        &format!("Keys of {cache}"),
        notice,
        html! {
            (cache_nav(frame, cache))
            form method="get" action={ (frame.base) "/" (cache) "/keys" } role="search" {
                label { "Search (wildcards * ? [ ]) " input type="text" name="q" value=(view.search); }
                label { "Type "
                    select name="type" {
                        option value="" selected[view.kind.is_empty()] { "any" }
                        @for kind in TYPES { option value=(kind) selected[view.kind == kind] { (kind) } }
                    }
                }
                button type="submit" { "Search" }
            }
            p {
                (view.matched) " keys"
                @if view.capped { " (the scan stopped at " (crate::store::SCANNED) " matches: narrow the search)" }
                ", page " (view.page) " of " (view.pages.max(1))
            }
            form method="post" action={ (frame.base) "/" (cache) "/bulk-delete" } {
                (csrf(frame))
                table {
                    thead { tr {
                        @if !frame.read_only { th { span.muted { "Select" } } }
                        th { "Key" } th { "Type" } th { "TTL" }
                    } }
                    tbody {
                        @for row in &view.rows {
                            tr {
                                @if !frame.read_only {
                                    td { input type="checkbox" name="key" value=(row.key) aria-label={ "select " (row.key) }; }
                                }
                                td { a href={ (frame.base) "/" (cache) "/key?k=" (key_query(&row.key)) } { (row.key) } }
                                td { (row.kind) }
                                td { (ttl_text(row.ttl)) }
                            }
                        }
                    }
                }
                @if !frame.read_only && !view.rows.is_empty() {
                    button type="submit" { "Delete selected keys…" }
                }
            }
            nav aria-label="pages" {
                @if view.page > 1 { a href=(link(view.page - 1)) rel="prev" { "← Previous" } }
                @if view.page < view.pages { a href=(link(view.page + 1)) rel="next" { "Next →" } }
            }
            @if !frame.read_only {
                fieldset {
                    legend { "Add a key" }
                    form method="post" action={ (frame.base) "/" (cache) "/add" } {
                        (csrf(frame))
                        label { "Key " input type="text" name="k" required; }
                        label { "Type "
                            select name="type" { @for kind in TYPES { option value=(kind) { (kind) } } }
                        }
                        label { "Field / member score " input type="text" name="field"; }
                        label { "Value (JSON, or text) " input type="text" name="value"; }
                        label { "TTL seconds (empty: never) " input type="number" name="ttl" min="1"; }
                        button type="submit" { "Add" }
                    }
                }
            }
        },
    )
}

/// The confirmation page of a destructive action: what it will do, and the form that does it.
pub(crate) fn confirm(
    frame: &Frame<'_>,
    cache: &str,
    title: &str,
    what: Markup,
    action: &str,
    fields: &[(&str, &str)],
) -> Markup {
    page(
        frame,
        title,
        &Notice::None,
        html! {
            (cache_nav(frame, cache))
            (what)
            form method="post" action={ (frame.base) "/" (cache) "/" (action) } {
                (csrf(frame))
                @for (name, value) in fields { input type="hidden" name=(name) value=(value); }
                input type="hidden" name="confirmed" value="yes";
                button type="submit" { "Yes, do it" }
                " "
                a href={ (frame.base) "/" (cache) "/keys" } { "Cancel" }
            }
        },
    )
}

/// A form of the key page: hidden key, fingerprint, operation and token, then `fields`.
fn edit_form(
    frame: &Frame<'_>,
    cache: &str,
    key: &str,
    fp: &str,
    op: &str,
    fields: Markup,
) -> Markup {
    html! {
        form.inline method="post" action={ (frame.base) "/" (cache) "/edit" } {
            (csrf(frame))
            input type="hidden" name="k" value=(key);
            input type="hidden" name="fp" value=(fp);
            input type="hidden" name="op" value=(op);
            (fields)
        }
    }
}

/// A value cell: the decoded value, or the raw view.
fn value(item: &Item) -> Markup {
    html! {
        @if item.raw {
            span.raw { "raw (not decodable): " } (item.text)
            br; span.muted { "hex: " (item.hex) }
        } @else { (item.text) }
    }
}

/// A remove button naming an item by its stored bytes.
fn remove(frame: &Frame<'_>, cache: &str, key: &str, fp: &str, op: &str, item: &Item) -> Markup {
    edit_form(
        frame,
        cache,
        key,
        fp,
        op,
        html! {
            input type="hidden" name="raw" value=(item.hex);
            button type="submit" aria-label={ "remove " (item.text) } { "Remove" }
        },
    )
}

/// A key's page.
pub(crate) fn key_page(
    frame: &Frame<'_>,
    cache: &str,
    key: &str,
    notice: &Notice,
    view: &KeyView,
) -> Markup {
    let fp = view.fingerprint.as_deref().unwrap_or("");
    let edit = |op: &str, fields: Markup| edit_form(frame, cache, key, fp, op, fields);
    // No content edit on a key too large to fingerprint (its TTL and deletion stay).
    let ro = frame.read_only || view.fingerprint.is_none();
    let kind = match view.content {
        Content::String(_) => "string",
        Content::Hash(_) => "hash",
        Content::List(_) => "list",
        Content::Set(_) => "set",
        Content::SortedSet(_) => "zset",
        Content::Stream(_) => "stream",
    };
    page(
        frame,
        &format!("Key {key}"),
        notice,
        html! {
            (cache_nav(frame, cache))
            table {
                tr { th { "Key" } td { code { (key) } } }
                tr { th { "Type" } td { (kind) } }
                tr { th { "Items" } td { (view.total) @if view.total > SHOWN as u64 { " (the first " (SHOWN) " shown)" } } }
                tr { th { "TTL" } td { (ttl_text(view.ttl)) } }
                tr { th { "Fingerprint" } td { code { (fp) } } }
            }
            @if view.fingerprint.is_none() {
                p.msg.err role="note" {
                    "This key holds " (view.total) " items, more than the " (EDITABLE)
                    " the admin edits: each edit checks the whole content first (compare-and-swap), \
                     which would hold the server that long. It is shown, not editable here."
                }
            }
            @if !frame.read_only {
                fieldset {
                    legend { "Expiry" }
                    form.inline method="post" action={ (frame.base) "/" (cache) "/ttl" } {
                        (csrf(frame))
                        input type="hidden" name="k" value=(key);
                        label { "TTL seconds " input type="number" name="seconds" min="1" required; }
                        button type="submit" name="op" value="expire" { "Set TTL" }
                    }
                    " "
                    form.inline method="post" action={ (frame.base) "/" (cache) "/ttl" } {
                        (csrf(frame))
                        input type="hidden" name="k" value=(key);
                        button type="submit" name="op" value="persist" { "Remove TTL (persist)" }
                    }
                    " "
                    form.inline method="post" action={ (frame.base) "/" (cache) "/delete" } {
                        (csrf(frame))
                        input type="hidden" name="k" value=(key);
                        button type="submit" { "Delete key…" }
                    }
                }
            }
            @match &view.content {
                Content::String(item) => {
                    table { tr { th { "Value" } td.v { (value(item)) } } }
                    @if !ro { fieldset { legend { "Edit" } (edit("set", html! {
                        label { "New value (JSON, or text) " input type="text" name="value" value=(item.text) required; }
                        button type="submit" { "Save" }
                    })) } }
                }
                Content::Hash(fields) => {
                    table {
                        thead { tr { th { "Field" } th { "Value" } @if !ro { th { "Actions" } } } }
                        tbody { @for (field, item) in fields { tr {
                            td.v { (field) }
                            td.v { (value(item)) }
                            @if !ro { td {
                                (edit("hset", html! {
                                    input type="hidden" name="field" value=(field);
                                    label { span.muted { "new value " } input type="text" name="value" value=(item.text) aria-label={ "value of " (field) }; }
                                    button type="submit" { "Save" }
                                }))
                                " "
                                (edit("hdel", html! {
                                    input type="hidden" name="field" value=(field);
                                    button type="submit" aria-label={ "delete field " (field) } { "Delete" }
                                }))
                            } }
                        } } }
                    }
                    @if !ro { fieldset { legend { "Set a field" } (edit("hset", html! {
                        label { "Field " input type="text" name="field" required; }
                        label { "Value (JSON, or text) " input type="text" name="value" required; }
                        button type="submit" { "Set field" }
                    })) } }
                }
                Content::List(items) => {
                    table {
                        thead { tr { th { "Index" } th { "Item" } @if !ro { th { "Actions" } } } }
                        tbody { @for (index, item) in items.iter().enumerate() { tr {
                            td { (index) } td.v { (value(item)) }
                            @if !ro { td { (remove(frame, cache, key, fp, "lrem", item)) } }
                        } } }
                    }
                    @if !ro { fieldset { legend { "Edit the list" }
                        (edit("lpush", html! { label { "Value " input type="text" name="value" required; } button type="submit" { "Push to head" } }))
                        (edit("rpush", html! { label { "Value " input type="text" name="value" required; } button type="submit" { "Push to tail" } }))
                        br;
                        (edit("lpop", html! { button type="submit" { "Pop head" } }))
                        " " (edit("rpop", html! { button type="submit" { "Pop tail" } }))
                        br;
                        (edit("lset", html! {
                            label { "Index " input type="number" name="index" required; }
                            label { "Value " input type="text" name="value" required; }
                            button type="submit" { "Set item" }
                        }))
                        br;
                        (edit("ltrim", html! {
                            label { "Keep from " input type="number" name="start" required; }
                            label { "to " input type="number" name="stop" required; }
                            button type="submit" { "Trim" }
                        }))
                    } }
                }
                Content::Set(items) => {
                    table {
                        thead { tr { th { "Member" } @if !ro { th { "Actions" } } } }
                        tbody { @for item in items { tr {
                            td.v { (value(item)) }
                            @if !ro { td { (remove(frame, cache, key, fp, "srem", item)) } }
                        } } }
                    }
                    @if !ro { fieldset { legend { "Add a member" } (edit("sadd", html! {
                        label { "Member " input type="text" name="value" required; }
                        button type="submit" { "Add" }
                    })) } }
                }
                Content::SortedSet(members) => {
                    table {
                        thead { tr { th { "Member" } th { "Score" } @if !ro { th { "Actions" } } } }
                        tbody { @for (item, score) in members { tr {
                            td.v { (value(item)) } td { (score) }
                            @if !ro { td { (remove(frame, cache, key, fp, "zrem", item)) } }
                        } } }
                    }
                    @if !ro { fieldset { legend { "Add or rescore a member" } (edit("zadd", html! {
                        label { "Member " input type="text" name="value" required; }
                        label { "Score " input type="text" name="score" required; }
                        button type="submit" { "Save" }
                    })) } }
                }
                Content::Stream(entries) => {
                    table {
                        thead { tr { th { "Id" } th { "Fields" } @if !ro { th { "Actions" } } } }
                        tbody { @for (id, fields) in entries { tr {
                            td { code { (id) } }
                            td.v { @for (field, text) in fields { (field) " = " (text) br; } }
                            @if !ro { td { (edit("xdel", html! {
                                input type="hidden" name="id" value=(id.to_string());
                                button type="submit" aria-label={ "delete entry " (id.to_string()) } { "Delete" }
                            })) } }
                        } } }
                    }
                    @if !ro { fieldset { legend { "Edit the stream" }
                        (edit("xadd", html! {
                            label { "Field " input type="text" name="field" required; }
                            label { "Value " input type="text" name="value" required; }
                            button type="submit" { "Add entry" }
                        }))
                        br;
                        (edit("xtrim", html! {
                            label { "Keep the newest " input type="number" name="maxlen" min="0" required; }
                            button type="submit" { "Trim" }
                        }))
                    } }
                }
            }
        },
    )
}

/// The server page.
pub(crate) struct Server<'a> {
    pub(crate) cache: &'a str,
    pub(crate) backend: String,
    /// The cache as a URL, passwords shown as `***`.
    pub(crate) location: String,
    pub(crate) prefix: String,
    pub(crate) version: i64,
    pub(crate) sections: Vec<(String, Vec<(String, String)>)>,
    pub(crate) hits: Option<String>,
    pub(crate) misses: Option<String>,
    pub(crate) commands: Vec<(String, String)>,
    pub(crate) slowlog: Vec<cachex::SlowlogEntry>,
    pub(crate) slowlog_len: u64,
}

/// The server page: INFO, hits and misses, command statistics, the slow log, the danger zone.
pub(crate) fn server(frame: &Frame<'_>, notice: &Notice, view: &Server<'_>) -> Markup {
    let cache = view.cache;
    page(
        frame,
        &format!("Server of {cache}"),
        notice,
        html! {
            (cache_nav(frame, cache))
            h2 { "Configuration" }
            table {
                tr { th { "Backend" } td { (view.backend) } }
                tr { th { "Location" } td { code { (view.location) } } }
                tr { th { "Key prefix" } td { code { (view.prefix) } } }
                tr { th { "Version" } td { (view.version) } }
            }
            h2 { "Keyspace hits and misses" }
            table {
                tr { th { "Hits" } td { (view.hits.as_deref().unwrap_or("-")) } }
                tr { th { "Misses" } td { (view.misses.as_deref().unwrap_or("-")) } }
            }
            h2 { "Command statistics" }
            @if view.commands.is_empty() { p.muted { "None reported." } } @else {
                table {
                    thead { tr { th { "Command" } th { "Statistics" } } }
                    tbody { @for (name, stats) in &view.commands { tr { td { (name) } td { code { (stats) } } } } }
                }
            }
            h2 { "Slow log (" (view.slowlog_len) " entries)" }
            @if view.slowlog.is_empty() { p.muted { "Empty." } } @else {
                table {
                    thead { tr { th { "Id" } th { "Duration" } th { "Command" } th { "Client" } } }
                    tbody { @for entry in &view.slowlog { tr {
                        td { (entry.id) }
                        td { (entry.duration.as_micros()) " µs" }
                        // Only the command's name: the slow log is the whole server's, and its
                        // arguments can hold other caches' keys and values.
                        td { code { (entry.command.first().map_or("", String::as_str)) }
                            @if entry.command.len() > 1 { " " span.muted { "(" (entry.command.len() - 1) " arguments hidden)" } } }
                        td { (entry.client_address.as_deref().unwrap_or("")) }
                    } } }
                }
            }
            h2 { "INFO" }
            @for (section, fields) in &view.sections {
                details {
                    summary { (section) }
                    table { tbody { @for (name, value) in fields { tr { td { (name) } td { code { (value) } } } } } }
                }
            }
            @if !frame.read_only {
                fieldset.danger {
                    legend { "Danger zone" }
                    form.inline method="post" action={ (frame.base) "/" (cache) "/clear" } {
                        (csrf(frame))
                        button type="submit" { "Clear this cache (every version)…" }
                    }
                    " "
                    form.inline method="post" action={ (frame.base) "/" (cache) "/flush" } {
                        (csrf(frame))
                        button type="submit" { "Flush the whole database…" }
                    }
                }
            }
        },
    )
}
