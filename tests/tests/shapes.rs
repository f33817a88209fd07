//! Every trait shape `#[auto_async]` supports compiles, and every spelling of every method does
//! what its native side does: generics, lifetimes, `where` clauses, associated items,
//! supertraits, `impl Trait` arguments, `&mut self` and `self`, default bodies, injection,
//! attributes, visibility, local mode, a renamed crate, keyword twins and method handles.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use cachex::auto_async;

/// Runs a future that must complete without a runtime's help (all probes here are ready).
fn ready<F: std::future::Future>(future: F) -> F::Output {
    futures::executor::block_on(future)
}

/// Runs `check` in each runtime situation that `bridge.rs` covers: under another executor (no
/// tokio runtime), on a multi-thread runtime's worker, on a current-thread runtime, and in
/// `spawn_blocking`. `check` makes blocking and async calls, so both bridges run in each.
fn everywhere<F, Fut>(check: F)
where
    F: Fn() -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let runtime = |multi_thread: bool| {
        let mut builder = if multi_thread {
            tokio::runtime::Builder::new_multi_thread()
        } else {
            tokio::runtime::Builder::new_current_thread()
        };
        builder
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime")
    };
    futures::executor::block_on(check());
    let on_worker = check.clone();
    runtime(true).block_on(async move {
        tokio::spawn(on_worker())
            .await
            .expect("no panic on the worker");
    });
    runtime(false).block_on(check());
    runtime(true).block_on(async move {
        tokio::task::spawn_blocking(move || futures::executor::block_on(check()))
            .await
            .expect("no panic in spawn_blocking");
    });
}

mod spellings {
    use super::*;

    #[auto_async]
    pub trait Store: Send + Sync {
        async fn get(&self, key: &str) -> Option<String>;
        fn put(&self, key: &str, value: String);
        #[auto_async(nonblocking)]
        fn len(&self) -> usize;
        #[auto_async(skip)]
        fn name(&self) -> &str;
    }

    #[derive(Default)]
    pub struct Mem(Mutex<HashMap<String, String>>);

    impl Store for Mem {
        async fn aget(&self, key: &str) -> Option<String> {
            self.0.lock().expect("not poisoned").get(key).cloned()
        }
        fn put(&self, key: &str, value: String) {
            self.0
                .lock()
                .expect("not poisoned")
                .insert(key.into(), value);
        }
        fn len(&self) -> usize {
            self.0.lock().expect("not poisoned").len()
        }
        fn name(&self) -> &str {
            "mem"
        }
    }

    /// A type that opts in to method handles: one `Arc` to clone, handles built once.
    #[derive(Clone, Default)]
    pub struct Service(Arc<StoreHandles<Arc<Mem>>>);

    impl std::ops::Deref for Service {
        type Target = StoreHandles<Arc<Mem>>;
        fn deref(&self) -> &Self::Target {
            &self.0
        }
    }

    impl Default for StoreHandles<Arc<Mem>> {
        fn default() -> Self {
            StoreHandles::new(Arc::default())
        }
    }

    #[test]
    fn every_spelling_reaches_the_native_side() {
        let mem = Mem::default();
        mem.put("a", "1".into());
        ready(mem.aput("b", "2".into()));
        ready(mem.a().put("c", "3".into()));
        assert_eq!(mem.get("a").as_deref(), Some("1"));
        assert_eq!(ready(mem.aget("b")).as_deref(), Some("2"));
        assert_eq!(ready(mem.a().get("c")).as_deref(), Some("3"));
        assert_eq!(mem.get("missing"), None);
        assert_eq!(
            (mem.len(), ready(mem.alen()), ready(mem.a().len())),
            (3, 3, 3)
        );
        assert_eq!(mem.name(), "mem");
    }

    #[test]
    fn the_view_is_a_copyable_reference() {
        let mem = Mem::default();
        let view = mem.a();
        let (first, second) = (view, view);
        ready(first.put("k", "v".into()));
        assert_eq!(ready(second.get("k")).as_deref(), Some("v"));
        let pending = mem.a().get("k"); // the future outlives the temporary view
        assert_eq!(ready(pending).as_deref(), Some("v"));
    }

    #[test]
    fn handles_on_an_opted_in_type() {
        let service = Service::default();
        service.put.as_sync("a", "1".into());
        ready(service.put.as_async("b", "2".into()));
        assert_eq!(service.get.as_sync("a").as_deref(), Some("1"));
        assert_eq!(ready(service.get.as_async("b")).as_deref(), Some("2"));
        assert_eq!(
            (service.len.as_sync(), ready(service.len.as_async())),
            (2, 2)
        );
        // The plain spellings keep working through the handles' deref.
        assert_eq!(service.get("a").as_deref(), Some("1"));
        assert_eq!(ready(service.a().get("b")).as_deref(), Some("2"));
        // Cloning the service is one reference count; the handles are shared.
        let clone = service.clone();
        assert!(Arc::ptr_eq(&service.0, &clone.0));
        assert_eq!(clone.get.as_sync("b").as_deref(), Some("2"));
    }

    #[test]
    fn handles_over_a_plain_reference() {
        let mem = Mem::default();
        let handles = StoreHandles::new(&mem);
        handles.put.as_sync("k", "v".into());
        assert_eq!(mem.get("k").as_deref(), Some("v"));
        assert_eq!(ready(handles.get.as_async("k")).as_deref(), Some("v"));
    }
}

mod generics {
    use super::*;
    use std::fmt::Display;
    use std::hash::Hash;

    /// A generic trait: a lifetime, a type with bounds, a const and a `where` clause.
    #[auto_async]
    pub trait Table<'s, K: Hash + Eq + Clone + Send + Sync, const N: usize>: Send + Sync
    where
        K: Display,
    {
        async fn find(&self, key: &K) -> Option<&'s str>;
        fn first<const M: usize>(&self) -> [Option<&'s str>; M];
        async fn describe<D>(&self, prefix: &D, key: K) -> String
        where
            D: Display + Sync + ?Sized;
    }

    pub struct Names<'s>(HashMap<u32, &'s str>);

    impl<'s, const N: usize> Table<'s, u32, N> for Names<'s> {
        async fn afind(&self, key: &u32) -> Option<&'s str> {
            self.0.get(key).copied()
        }
        fn first<const M: usize>(&self) -> [Option<&'s str>; M] {
            std::array::from_fn(|i| self.0.get(&(i as u32)).copied())
        }
        async fn adescribe<D>(&self, prefix: &D, key: u32) -> String
        where
            D: Display + Sync + ?Sized,
        {
            format!(
                "{prefix}{key}:{}:{N}",
                self.0.get(&key).copied().unwrap_or("-")
            )
        }
    }

    #[test]
    fn generic_traits_and_methods() {
        let text = String::from("zero one");
        let names = &Names(HashMap::from([(0, &text[..4]), (1, &text[5..])]));
        assert_eq!(Table::<u32, 3>::find(names, &1), Some("one"));
        assert_eq!(ready(Table::<u32, 3>::afind(names, &0)), Some("zero"));
        assert_eq!(ready(Table::<u32, 3>::a(names).find(&1)), Some("one"));
        assert_eq!(
            Table::<u32, 3>::first::<2>(names),
            [Some("zero"), Some("one")]
        );
        assert_eq!(ready(Table::<u32, 3>::afirst::<1>(names)), [Some("zero")]);
        assert_eq!(
            ready(Table::<u32, 3>::a(names).first::<1>()),
            [Some("zero")]
        );
        assert_eq!(Table::<u32, 3>::describe(names, "#", 1), "#1:one:3");
        assert_eq!(ready(Table::<u32, 7>::a(names).describe("@", 2)), "@2:-:7");
        let handles = TableHandles::<&Names<'_>, u32, 3>::new(names);
        assert_eq!(handles.find.as_sync(&0), Some("zero"));
        assert_eq!(ready(handles.describe.as_async("!", 0)), "!0:zero:3");
    }

    /// Generic methods with `impl Trait` arguments, and type parameters used only in the output.
    #[auto_async]
    pub trait Convert: Send + Sync {
        fn render(&self, value: impl Display + Send) -> String;
        async fn parse<T: std::str::FromStr + Send>(
            &self,
            text: impl AsRef<str> + Send,
        ) -> Option<T>;
    }

    pub struct Converter;

    impl Convert for Converter {
        fn render(&self, value: impl Display + Send) -> String {
            format!("<{value}>")
        }
        async fn aparse<T: std::str::FromStr + Send>(
            &self,
            text: impl AsRef<str> + Send,
        ) -> Option<T> {
            text.as_ref().parse().ok()
        }
    }

    #[test]
    fn impl_trait_arguments_and_output_only_type_parameters() {
        assert_eq!(Converter.render(4), "<4>");
        assert_eq!(ready(Converter.arender("x")), "<x>");
        assert_eq!(ready(Converter.a().render(1.5)), "<1.5>");
        assert_eq!(Converter.parse::<u8>("42"), Some(42));
        let parsed: Option<i64> = ready(Converter.a().parse(String::from("-7")));
        assert_eq!(parsed, Some(-7));
        assert_eq!(ready(Converter.aparse::<u8>("x")), None);
    }
}

mod lifetimes {
    use super::*;

    #[auto_async]
    pub trait Words: Send + Sync {
        /// Elided: the result borrows `self`.
        fn longest(&self) -> &str;
        /// Named receiver lifetime.
        async fn nth<'s>(&'s self, n: usize) -> Option<&'s str>;
        /// The result borrows an argument, not `self`.
        fn pick<'t>(&self, text: &'t str) -> &'t str;
        /// `'_` in a path.
        async fn iter(&self) -> std::slice::Iter<'_, String>;
    }

    pub struct List(Vec<String>);

    impl Words for List {
        fn longest(&self) -> &str {
            self.0.iter().max_by_key(|w| w.len()).map_or("", |w| w)
        }
        #[allow(clippy::needless_lifetimes)] // the named receiver lifetime is the shape tested
        async fn anth<'s>(&'s self, n: usize) -> Option<&'s str> {
            self.0.get(n).map(|w| &w[..])
        }
        fn pick<'t>(&self, text: &'t str) -> &'t str {
            &text[..self.0.len().min(text.len())]
        }
        async fn aiter(&self) -> std::slice::Iter<'_, String> {
            self.0.iter()
        }
    }

    #[test]
    fn lifetimes_in_arguments_and_results() {
        let list = List(vec!["a".into(), "bbb".into(), "cc".into()]);
        let longest: &str = ready(list.a().longest());
        assert_eq!((list.longest(), longest), ("bbb", "bbb"));
        assert_eq!(ready(list.alongest()), "bbb");
        assert_eq!(list.nth(2), Some("cc"));
        assert_eq!(ready(list.a().nth(0)), Some("a"));
        let picked = {
            let text = String::from("abcdef");
            let picked: String = ready(list.a().pick(&text)).to_owned();
            assert_eq!(list.pick(&text), "abc");
            picked
        };
        assert_eq!(picked, "abc");
        assert_eq!(ready(list.a().iter()).count(), 3);
        assert_eq!(list.iter().len(), 3);
        let handles = WordsHandles::new(&list);
        assert_eq!(handles.longest.as_sync(), "bbb");
        assert_eq!(ready(handles.nth.as_async(1)), Some("bbb"));
    }
}

mod associated_items_and_supertraits {
    use super::*;

    pub trait Named {
        fn name(&self) -> String;
    }

    #[auto_async]
    pub trait Source: Named + Send + Sync {
        type Item: Clone + Send;
        const LIMIT: usize;
        async fn fetch(&self) -> Vec<Self::Item>;
        /// A default body on the blocking form, using the supertrait and the associated items.
        fn label(&self) -> String {
            format!("{}:{}:{}", self.name(), Self::LIMIT, self.fetch().len())
        }
        /// A default body on the async form.
        async fn first(&self) -> Option<Self::Item> {
            self.afetch().await.first().cloned()
        }
    }

    pub struct Numbers;

    impl Named for Numbers {
        fn name(&self) -> String {
            "numbers".into()
        }
    }

    impl Source for Numbers {
        type Item = u8;
        const LIMIT: usize = 3;
        async fn afetch(&self) -> Vec<u8> {
            (1..=Self::LIMIT as u8).collect()
        }
    }

    #[test]
    fn associated_types_consts_supertraits_and_default_bodies() {
        assert_eq!(Numbers.fetch(), vec![1, 2, 3]);
        assert_eq!(Numbers.label(), "numbers:3:3");
        assert_eq!(ready(Numbers.alabel()), "numbers:3:3");
        assert_eq!(ready(Numbers.a().label()), "numbers:3:3");
        assert_eq!(Numbers.first(), Some(1));
        assert_eq!(ready(Numbers.a().first()), Some(1));
        assert_eq!(<Numbers as Source>::LIMIT, 3);
        let handles = SourceHandles::new(&Numbers);
        assert_eq!(handles.first.as_sync(), Some(1));
        assert_eq!(ready(handles.label.as_async()), "numbers:3:3");
    }
}

mod receivers {
    use super::*;

    #[auto_async]
    pub trait Counter: Send + Sync {
        fn add(&mut self, n: u32) -> u32;
        async fn reset(&mut self) -> u32;
        fn get(&self) -> u32;
        async fn into_total(self) -> u32
        where
            Self: Sized;
        fn boxed(self: Box<Self>) -> u32;
    }

    #[derive(Default)]
    pub struct Total(u32);

    impl Counter for Total {
        fn add(&mut self, n: u32) -> u32 {
            self.0 += n;
            self.0
        }
        async fn areset(&mut self) -> u32 {
            std::mem::take(&mut self.0)
        }
        fn get(&self) -> u32 {
            self.0
        }
        async fn ainto_total(self) -> u32 {
            self.0
        }
        fn boxed(self: Box<Self>) -> u32 {
            self.0 + 1000
        }
    }

    #[test]
    fn mut_self_value_self_and_boxed_self() {
        let mut total = Total::default();
        assert_eq!(total.add(1), 1);
        assert_eq!(ready(total.aadd(2)), 3);
        assert_eq!(ready(total.a_mut().add(3)), 6);
        assert_eq!(ready(total.a_mut().get()), 6);
        assert_eq!(ready(total.a().get()), 6);
        assert_eq!(total.reset(), 6);
        total.add(5);
        assert_eq!(ready(total.a_mut().reset()), 5);
        total.add(9);
        assert_eq!(Total(4).into_total(), 4);
        assert_eq!(ready(total.ainto_total()), 9);
        assert_eq!(Box::new(Total(1)).boxed(), 1001);
        assert_eq!(ready(Box::new(Total(2)).aboxed()), 1002);
    }
}

mod injection {
    use super::*;

    #[auto_async]
    pub trait Store: Send + Sync {
        async fn get(&self, key: u32) -> u32;
        fn put(&self, key: u32);
    }

    /// Writes both sides of both methods: nothing crosses the bridge.
    #[derive(Default)]
    pub struct Native {
        blocking_calls: AtomicUsize,
        async_calls: AtomicUsize,
    }

    impl Store for Native {
        async fn aget(&self, key: u32) -> u32 {
            self.async_calls.fetch_add(1, Ordering::SeqCst);
            key
        }
        fn get(&self, key: u32) -> u32 {
            self.blocking_calls.fetch_add(1, Ordering::SeqCst);
            key
        }
        fn put(&self, _: u32) {
            self.blocking_calls.fetch_add(1, Ordering::SeqCst);
        }
        async fn aput(&self, _: u32) {
            self.async_calls.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn an_injected_side_replaces_the_bridge_on_every_spelling() {
        let store = Native::default();
        assert_eq!(store.get(1), 1);
        store.put(1);
        assert_eq!(store.blocking_calls.load(Ordering::SeqCst), 2);
        assert_eq!(store.async_calls.load(Ordering::SeqCst), 0);
        assert_eq!(ready(store.aget(2)) + ready(store.a().get(3)), 5);
        ready(store.aput(1));
        ready(store.a().put(1));
        assert_eq!(store.async_calls.load(Ordering::SeqCst), 4);
        let handles = StoreHandles::new(&store);
        handles.put.as_sync(1);
        ready(handles.put.as_async(1));
        assert_eq!(store.blocking_calls.load(Ordering::SeqCst), 3);
        assert_eq!(store.async_calls.load(Ordering::SeqCst), 5);
    }
}

mod attributes_and_visibility {
    use super::*;

    pub mod inner {
        use cachex::auto_async;

        /// A crate-visible trait with documented, conditional and annotated methods.
        #[auto_async]
        pub(crate) trait Config: Send + Sync {
            /// Documented.
            #[must_use]
            fn value(&self) -> u32;
            #[cfg(any())]
            fn never_compiled(&self) -> u32;
            #[cfg(test)]
            async fn compiled(&self) -> u32;
        }

        pub(crate) struct Fixed;

        impl Config for Fixed {
            fn value(&self) -> u32 {
                1
            }
            async fn acompiled(&self) -> u32 {
                2
            }
        }
    }

    /// A private trait works within its module and below; without `Send + Sync` supertraits,
    /// the derived async twin asks `Self: Sync` itself.
    #[auto_async]
    trait Private {
        fn secret(&self) -> u32;
    }

    impl Private for inner::Fixed {
        fn secret(&self) -> u32 {
            3
        }
    }

    #[test]
    fn attributes_are_carried_and_visibility_kept() {
        use inner::{Config, Fixed};
        // `Fixed` implements two annotated traits, both in scope here: like any two trait
        // methods of one name, their `a()` views are told apart by the trait's path.
        assert_eq!(Fixed.value() + ready(Config::a(&Fixed).value()), 2);
        assert_eq!(Fixed.compiled() + ready(Config::a(&Fixed).compiled()), 4);
        assert_eq!(Fixed.secret() + ready(Fixed.asecret()), 6);
        assert_eq!(ready(Private::a(&Fixed).secret()), 3);
        assert_eq!(ready(PrivateHandles::new(&Fixed).secret.as_async()), 3);
        let handles = inner::ConfigHandles::new(&Fixed);
        assert_eq!(handles.compiled.as_sync(), 2);
    }
}

mod local {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;

    /// Futures that are not `Send`: an `Rc` lives across an await point. With `dyn` too: trait
    /// objects behind `Rc`.
    #[auto_async(local, dyn)]
    pub trait Local {
        async fn bump(&self) -> usize;
        fn count(&self) -> usize;
    }

    pub struct Counter(Rc<Cell<usize>>);

    impl Local for Counter {
        async fn abump(&self) -> usize {
            let shared = self.0.clone();
            futures::future::ready(()).await;
            shared.set(shared.get() + 1);
            shared.get()
        }
        fn count(&self) -> usize {
            self.0.get()
        }
    }

    #[test]
    fn local_mode_allows_futures_that_are_not_send() {
        let counter = Counter(Rc::default());
        assert_eq!(counter.bump(), 1);
        assert_eq!(ready(counter.abump()), 2);
        assert_eq!(ready(counter.a().bump()), 3);
        assert_eq!(ready(counter.acount()), 3);
        assert_eq!(LocalHandles::new(&counter).count.as_sync(), 3);
    }

    async fn every_spelling(counter: Rc<dyn Local>) -> usize {
        let blocking = counter.bump();
        let bumped = counter.abump().await + counter.a().bump().await;
        assert_eq!((counter.acount().await, counter.a().count().await), (3, 3));
        let borrowed: &dyn Local = &*counter;
        assert_eq!((&borrowed).abump().await, 4);
        blocking + bumped + borrowed.count()
    }

    /// On a `LocalSet`, where tokio refuses `block_in_place`, and outside any runtime.
    #[test]
    fn rc_dyn_on_a_local_set_and_outside_any_runtime() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let on_local_set = runtime.block_on(
            tokio::task::LocalSet::new()
                .run_until(async { every_spelling(Rc::new(Counter(Rc::default()))).await }),
        );
        let outside = ready(every_spelling(Rc::new(Counter(Rc::default()))));
        assert_eq!((on_local_set, outside), (10, 10));
    }
}

mod renamed_crate {
    use super::ready;
    use cachex as renamed;

    #[renamed::auto_async(crate = renamed)]
    pub trait Echo: Send + Sync {
        async fn echo(&self, n: u8) -> u8;
    }

    pub struct Same;

    impl Echo for Same {
        async fn aecho(&self, n: u8) -> u8 {
            n
        }
    }

    #[test]
    fn generated_code_uses_the_given_path() {
        assert_eq!(Same.echo(4) + ready(Same.a().echo(1)), 5);
    }
}

mod keywords {
    use super::*;

    /// Twins that would be keywords are raw identifiers: `sync` gives `r#async`.
    #[auto_async]
    pub trait Keywords: Send + Sync {
        fn sync(&self) -> u8;
        fn wait(&self) -> u8;
        fn r#type(&self) -> u8;
    }

    pub struct K;

    impl Keywords for K {
        fn sync(&self) -> u8 {
            1
        }
        fn wait(&self) -> u8 {
            2
        }
        fn r#type(&self) -> u8 {
            3
        }
    }

    #[test]
    fn keyword_twins_are_raw_identifiers() {
        assert_eq!(
            ready(K.r#async()) + ready(K.r#await()) + ready(K.atype()),
            6
        );
        assert_eq!(ready(K.a().sync()) + ready(K.a().r#type()), 4);
    }
}

mod deprecations {
    use super::*;

    /// The forum proposal's migration tool: mark the spellings that should go away.
    #[auto_async(deprecated_sync = "use the async API")]
    pub trait Old: Send + Sync {
        #[auto_async(deprecated_async = "use `value`")]
        fn value(&self) -> u8;
        async fn fresh(&self) -> u8;
    }

    pub struct V;

    impl Old for V {
        fn value(&self) -> u8 {
            1
        }
        async fn afresh(&self) -> u8 {
            2
        }
    }

    #[test]
    #[allow(deprecated)]
    fn deprecated_spellings_still_work() {
        assert_eq!(V.value() + ready(V.avalue()) + ready(V.a().value()), 3);
        assert_eq!(V.fresh() + ready(V.afresh()), 4);
    }
}

mod unsized_parameters_and_self_results {
    use super::*;

    /// A trait parameter that may be unsized, defaulting to `Self` (the `PartialEq` pattern),
    /// and methods returning `Self` without `where Self: Sized`.
    #[auto_async]
    pub trait Similar<Rhs: ?Sized + Sync = Self>: Send + Sync {
        fn same(&self, other: &Rhs) -> bool;
        fn twin(&self) -> Self;
        async fn pair(&self) -> (Self, u8);
    }

    #[derive(Debug, PartialEq)]
    pub struct Word(String);

    impl Similar<str> for Word {
        fn same(&self, other: &str) -> bool {
            self.0 == other
        }
        fn twin(&self) -> Self {
            Word(self.0.clone())
        }
        async fn apair(&self) -> (Self, u8) {
            (self.twin(), 2)
        }
    }

    #[test]
    fn unsized_trait_parameters_and_self_by_value() {
        let word = Word("w".into());
        assert!(word.same("w") && ready(word.asame("w")) && ready(word.a().same("w")));
        assert_eq!(ready(word.a().twin()), word);
        assert_eq!(word.pair(), (Word("w".into()), 2));
        let handles = SimilarHandles::<&Word, str>::new(&word);
        assert!(handles.same.as_sync("w"));
        assert_eq!(ready(handles.pair.as_async()).1, 2);
    }
}

mod cfg_alternatives {
    use super::*;

    /// One method, native async on one platform and native blocking on the others.
    #[auto_async]
    pub trait Platform: Send + Sync {
        #[cfg(unix)]
        async fn name(&self) -> &'static str;
        #[cfg(not(unix))]
        fn name(&self) -> &'static str;
    }

    pub struct Here;

    impl Platform for Here {
        #[cfg(unix)]
        async fn aname(&self) -> &'static str {
            "unix"
        }
        #[cfg(not(unix))]
        fn name(&self) -> &'static str {
            "other"
        }
    }

    #[test]
    fn methods_under_exclusive_cfgs_are_alternatives() {
        let expected = if cfg!(unix) { "unix" } else { "other" };
        assert_eq!(Here.name(), expected);
        assert_eq!(ready(Here.a().name()), expected);
    }
}

/// The user's own `#[deprecated]` warns at the user's calls only: generated code calling the
/// deprecated method compiles without a warning (denied here).
#[deny(deprecated)]
mod user_deprecations {
    use super::*;

    #[auto_async]
    pub trait Old: Send + Sync {
        #[deprecated(note = "use `new`")]
        fn old(&self) -> u8;
        #[deprecated]
        async fn older(&self) -> u8;
    }

    pub struct V;

    impl Old for V {
        fn old(&self) -> u8 {
            1
        }
        async fn aolder(&self) -> u8 {
            2
        }
    }

    #[test]
    #[allow(deprecated)]
    fn generated_code_does_not_warn() {
        assert_eq!(
            V.old() + ready(V.a().old()) + ready(OldHandles::new(&V).older.as_async()),
            4
        );
    }
}

mod async_default_arguments {
    use super::*;

    /// Records when it is dropped.
    pub struct Guard(&'static str, Arc<Mutex<Vec<&'static str>>>);

    impl Drop for Guard {
        fn drop(&mut self) {
            self.1.lock().expect("not poisoned").push(self.0);
        }
    }

    #[auto_async]
    pub trait Hold: Send + Sync {
        /// An async default body whose arguments are unused or ignored.
        async fn hold(&self, _: Guard, _named: Guard, (a, b): (u8, u8)) -> u8 {
            a + b
        }
    }

    pub struct H;

    impl Hold for H {}

    #[test]
    fn arguments_live_as_long_as_the_future_as_in_an_async_fn() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let future = H.ahold(
            Guard("ignored", log.clone()),
            Guard("named", log.clone()),
            (1, 2),
        );
        assert!(
            log.lock().expect("not poisoned").is_empty(),
            "nothing dropped at call time"
        );
        assert_eq!(ready(future), 3);
        let mut dropped = log.lock().expect("not poisoned").clone();
        dropped.sort_unstable();
        assert_eq!(dropped, ["ignored", "named"]);
    }
}

/// An async default body in a trait without `Send + Sync` supertraits: the `Self: Sync` its
/// future needs is a bound on the methods that run it, so a type that is not `Sync` still
/// implements the trait and calls everything else.
mod default_body_without_sync_supertraits {
    use super::*;
    use std::cell::Cell;

    #[auto_async]
    pub trait Greeter {
        fn name(&self) -> String;
        async fn greet(&self, greeting: &str) -> String {
            format!("{greeting}, {}", self.name())
        }
    }

    pub struct World;

    impl Greeter for World {
        fn name(&self) -> String {
            "world".into()
        }
    }

    /// Not `Sync`: implements the trait all the same.
    pub struct Counted(Cell<u32>);

    impl Greeter for Counted {
        fn name(&self) -> String {
            self.0.set(self.0.get() + 1);
            format!("#{}", self.0.get())
        }
    }

    #[test]
    fn every_spelling_in_every_runtime_situation() {
        everywhere(|| async {
            assert_eq!(World.greet("hi"), "hi, world");
            assert_eq!(World.agreet("hey").await, "hey, world");
            assert_eq!(World.a().greet("yo").await, "yo, world");
            let handles = GreeterHandles::new(&World);
            assert_eq!(handles.greet.as_sync("hi"), "hi, world");
            assert_eq!(handles.greet.as_async("hey").await, "hey, world");
            assert_eq!(World.a().name().await, "world");
        });
        assert_eq!(Counted(Cell::new(0)).name(), "#1");
    }
}

/// By-value `self` in a trait that is not `Sized`: the twins that move `self` get the bound.
mod by_value_self_in_an_unsized_trait {
    use super::*;

    #[auto_async]
    pub trait Consume: Send + Sync {
        fn into_len(self) -> usize;
        async fn into_upper(self) -> String;
        /// Default bodies that move `self`, on both forms.
        fn into_pair(self) -> (usize, usize) {
            (0, 0)
        }
        async fn into_label(self) -> String {
            String::from("label")
        }
    }

    pub struct Word(String);

    impl Consume for Word {
        fn into_len(self) -> usize {
            self.0.len()
        }
        async fn ainto_upper(self) -> String {
            self.0.to_uppercase()
        }
    }

    #[test]
    fn every_spelling_in_every_runtime_situation() {
        everywhere(|| async {
            let word = || Word("abc".into());
            assert_eq!(word().into_len(), 3);
            assert_eq!(word().ainto_len().await, 3);
            assert_eq!(word().into_upper(), "ABC");
            assert_eq!(word().ainto_upper().await, "ABC");
            assert_eq!(word().into_pair(), (0, 0));
            assert_eq!(word().ainto_pair().await, (0, 0));
            assert_eq!(word().into_label(), "label");
            assert_eq!(word().ainto_label().await, "label");
        });
    }
}

/// `mut self` and `mut` arguments in default bodies of either form.
mod mutable_bindings_in_default_bodies {
    use super::*;

    #[auto_async]
    pub trait Tally: Send + Sync {
        fn bump(&mut self) -> u32;
        async fn finish(mut self, mut extra: Vec<u32>) -> Vec<u32> {
            extra.push(self.bump());
            extra
        }
        fn finish_now(mut self, mut base: u32) -> u32 {
            base += self.bump();
            base
        }
        async fn add_all(&mut self, mut items: Vec<u32>) -> u32 {
            items.push(self.bump());
            items.iter().sum()
        }
    }

    #[derive(Default)]
    pub struct Count(u32);

    impl Tally for Count {
        fn bump(&mut self) -> u32 {
            self.0 += 1;
            self.0
        }
    }

    #[test]
    fn every_spelling_in_every_runtime_situation() {
        everywhere(|| async {
            assert_eq!(Count(1).finish(vec![7]), [7, 2]);
            assert_eq!(Count(2).afinish(vec![]).await, [3]);
            assert_eq!(Count(0).finish_now(10), 11);
            assert_eq!(Count(0).afinish_now(20).await, 21);
            let mut count = Count::default();
            assert_eq!(count.add_all(vec![5]), 6);
            assert_eq!(count.aadd_all(vec![5]).await, 7);
            assert_eq!(count.a_mut().add_all(vec![5]).await, 8);
        });
    }
}

/// Default bodies whose value coerces to the declared type, at the end or at a `return`.
mod coercions_in_default_bodies {
    use super::*;
    use std::fmt::Display;

    #[auto_async]
    pub trait Numbers: Send + Sync {
        fn values(&self) -> &[i32];
        async fn boxed(&self) -> Box<dyn Iterator<Item = i32> + Send + '_> {
            Box::new(self.values().iter().copied())
        }
        async fn first(&self) -> &(dyn Display + Sync) {
            &self.values()[0]
        }
        async fn described(&self, early: bool) -> Box<dyn Display + Send> {
            if early {
                return Box::new("early");
            }
            Box::new(self.values().len())
        }
        fn blocking_boxed(&self) -> Box<dyn Iterator<Item = i32> + '_> {
            Box::new(self.values().iter().rev().copied())
        }
    }

    pub struct List(Vec<i32>);

    impl Numbers for List {
        fn values(&self) -> &[i32] {
            &self.0
        }
    }

    #[test]
    fn every_spelling_in_every_runtime_situation() {
        everywhere(|| async {
            let list = List(vec![1, 2, 3]);
            assert_eq!(list.boxed().sum::<i32>(), 6);
            assert_eq!(list.aboxed().await.count(), 3);
            assert_eq!(list.a().boxed().await.max(), Some(3));
            assert_eq!(list.first().to_string(), "1");
            assert_eq!(list.a().first().await.to_string(), "1");
            assert_eq!(list.described(true).to_string(), "early");
            assert_eq!(list.adescribed(false).await.to_string(), "3");
            assert_eq!(list.ablocking_boxed().await.next(), Some(3));
            let handles = NumbersHandles::new(&list);
            assert_eq!(handles.boxed.as_sync().sum::<i32>(), 6);
            assert_eq!(handles.described.as_async(true).await.to_string(), "early");
        });
    }
}

/// `impl Trait` nested in a result, and a blocking method returning `impl Iterator`.
mod impl_trait_results {
    use super::*;

    #[auto_async]
    pub trait Source: Send + Sync {
        async fn name(&self) -> Result<impl AsRef<str> + Send, std::fmt::Error>;
        fn numbers(&self) -> impl Iterator<Item = i32> + Send;
    }

    pub struct Static;

    impl Source for Static {
        async fn aname(&self) -> Result<impl AsRef<str> + Send, std::fmt::Error> {
            Ok("static")
        }
        fn numbers(&self) -> impl Iterator<Item = i32> + Send {
            1..4
        }
    }

    #[test]
    fn every_spelling_in_every_runtime_situation() {
        everywhere(|| async {
            assert_eq!(Static.name().expect("named").as_ref(), "static");
            assert_eq!(Static.aname().await.expect("named").as_ref(), "static");
            assert_eq!(Static.a().name().await.expect("named").as_ref(), "static");
            assert_eq!(Static.numbers().sum::<i32>(), 6);
            assert_eq!(Static.anumbers().await.sum::<i32>(), 6);
            assert_eq!(Static.a().numbers().await.sum::<i32>(), 6);
            let handles = SourceHandles::new(&Static);
            assert_eq!(handles.name.as_sync().expect("named").as_ref(), "static");
            assert_eq!(
                handles.name.as_async().await.expect("named").as_ref(),
                "static"
            );
            assert_eq!(handles.numbers.as_sync().count(), 3);
            assert_eq!(handles.numbers.as_async().await.count(), 3);
        });
    }
}

/// A by-value method's future owns `self`: it needs `Self: Send`, not `Sync`.
mod by_value_futures_need_only_send {
    use super::*;
    use std::cell::Cell;

    #[auto_async]
    pub trait Job {
        fn run(self) -> u32;
        async fn run_later(self) -> u32;
    }

    /// `Send` but not `Sync`.
    pub struct Once(Cell<u32>);

    impl Job for Once {
        fn run(self) -> u32 {
            self.0.get()
        }
        async fn arun_later(self) -> u32 {
            self.0.get() + 1
        }
    }

    #[test]
    fn every_spelling_in_every_runtime_situation() {
        everywhere(|| async {
            assert_eq!(Once(Cell::new(1)).run(), 1);
            assert_eq!(Once(Cell::new(2)).arun().await, 2);
            assert_eq!(Once(Cell::new(3)).run_later(), 4);
            assert_eq!(Once(Cell::new(4)).arun_later().await, 5);
        });
    }
}

/// Lint attributes reach every generated item: twins, view methods, handle fields.
#[deny(
    non_snake_case,
    clippy::too_many_arguments,
    unfulfilled_lint_expectations
)]
mod lint_attributes {
    use super::*;

    #[auto_async]
    pub trait Legacy: Send + Sync {
        #[allow(non_snake_case)]
        fn GetValue(&self) -> u8;
        #[allow(non_snake_case)]
        async fn FetchValue(&self) -> u8;
        #[allow(clippy::too_many_arguments)]
        async fn sum(&self, a: u8, b: u8, c: u8, d: u8, e: u8, f: u8, g: u8) -> u8;
        #[expect(unused_variables)]
        fn ignore(&self, unused: u8) -> u8 {
            0
        }
    }

    pub struct Old;

    impl Legacy for Old {
        fn GetValue(&self) -> u8 {
            1
        }
        async fn aFetchValue(&self) -> u8 {
            2
        }
        async fn asum(&self, a: u8, b: u8, c: u8, d: u8, e: u8, f: u8, g: u8) -> u8 {
            a + b + c + d + e + f + g
        }
    }

    #[test]
    fn every_spelling_in_every_runtime_situation() {
        everywhere(|| async {
            assert_eq!(
                Old.GetValue() + Old.aGetValue().await + Old.a().GetValue().await,
                3
            );
            assert_eq!(Old.FetchValue() + Old.a().FetchValue().await, 4);
            assert_eq!(
                Old.sum(1, 1, 1, 1, 1, 1, 1) + Old.a().sum(1, 1, 1, 1, 1, 1, 1).await,
                14
            );
            assert_eq!(Old.ignore(1) + Old.aignore(2).await, 0);
            let handles = LegacyHandles::new(&Old);
            assert_eq!(
                handles.GetValue.as_sync() + handles.FetchValue.as_async().await,
                3
            );
        });
    }
}

/// Trait objects: `Arc<dyn Store>`, `Box<dyn Store>` and `&dyn Store` with every spelling. The
/// blocking call goes through the vtable (to an injected side when there is one), the async
/// twins through boxed futures; implementors and static calls are unchanged.
mod trait_objects {
    use super::*;

    #[auto_async(dyn)]
    pub trait Store: Send + Sync {
        async fn get(&self, key: &str) -> Option<String>;
        fn put(&self, key: &str, value: &str);
        #[auto_async(nonblocking)]
        fn len(&self) -> usize;
        /// Borrows from `self`: the boxed future's lifetime covers it.
        async fn first_key(&self) -> Option<&str>;
        /// A default body, in the vtable.
        async fn get_or(&self, key: &str, default: &str) -> String {
            self.aget(key).await.unwrap_or_else(|| default.to_owned())
        }
        /// Generic: left out of the vtable, callable on `Sized` implementors only.
        async fn get_parsed<T: std::str::FromStr + Send>(&self, key: &str) -> Option<T> {
            self.aget(key).await?.parse().ok()
        }
    }

    #[derive(Default)]
    pub struct Mem {
        map: Mutex<HashMap<String, String>>,
        keys: Vec<String>,
    }

    impl Store for Mem {
        async fn aget(&self, key: &str) -> Option<String> {
            self.map.lock().expect("not poisoned").get(key).cloned()
        }
        fn put(&self, key: &str, value: &str) {
            self.map
                .lock()
                .expect("not poisoned")
                .insert(key.into(), value.into());
        }
        fn len(&self) -> usize {
            self.map.lock().expect("not poisoned").len()
        }
        async fn afirst_key(&self) -> Option<&str> {
            self.keys.first().map(String::as_str)
        }
    }

    /// Injects a native blocking `get`: trait object calls reach it too. Written with the
    /// definition's names.
    pub struct Native;

    #[auto_async]
    impl Store for Native {
        async fn get(&self, _: &str) -> Option<String> {
            Some("async".into())
        }
        fn get(&self, _: &str) -> Option<String> {
            Some("blocking".into())
        }
        fn put(&self, _: &str, _: &str) {}
        fn len(&self) -> usize {
            0
        }
        async fn first_key(&self) -> Option<&str> {
            None
        }
    }

    fn mem() -> Mem {
        Mem {
            keys: vec!["first".into()],
            ..Mem::default()
        }
    }

    /// Every spelling, on any implementor: a trait object's pointer is one.
    async fn every_spelling(store: impl Store) {
        let before = store.len();
        store.put("a", "1");
        store.aput("b", "2").await;
        store.a().put("c", "3").await;
        assert_eq!(store.get("a").as_deref(), Some("1"));
        assert_eq!(store.aget("b").await.as_deref(), Some("2"));
        assert_eq!(store.a().get("c").await.as_deref(), Some("3"));
        let after = before + 3;
        assert_eq!(
            (store.len(), store.alen().await, store.a().len().await),
            (after, after, after)
        );
        assert_eq!(store.afirst_key().await, Some("first"));
        assert_eq!(store.a().first_key().await, Some("first"));
        assert_eq!(store.get_or("z", "zz"), "zz");
        assert_eq!(store.aget_or("z", "zz").await, "zz");
        assert_eq!(store.a().get_or("a", "zz").await, "1");
        let handles = StoreHandles::new(&store);
        assert_eq!(handles.get.as_sync("a").as_deref(), Some("1"));
        assert_eq!(handles.get.as_async("b").await.as_deref(), Some("2"));
    }

    #[test]
    fn arc_box_and_ref_with_every_spelling_in_every_runtime_situation() {
        everywhere(|| async {
            let arc: Arc<dyn Store> = Arc::new(mem());
            arc.put("k", "v");
            assert_eq!(arc.get("k").as_deref(), Some("v"));
            assert_eq!(arc.aget("k").await.as_deref(), Some("v"));
            assert_eq!(arc.a().get("k").await.as_deref(), Some("v"));
            every_spelling(arc).await;
            let boxed: Box<dyn Store + Send + Sync> = Box::new(mem());
            assert_eq!(boxed.aget("k").await, None);
            assert_eq!(boxed.a().get_or("k", "none").await, "none");
            every_spelling(boxed).await;
            let owner = mem();
            let borrowed: &dyn Store = &owner;
            borrowed.put("k", "ref");
            assert_eq!(borrowed.get("k").as_deref(), Some("ref"));
            // `borrowed.aget(..)` names the object's own `aget`, which needs `Sized` so that
            // static calls stay unboxed: call it on the reference, an implementor itself.
            assert_eq!((&borrowed).aget("k").await.as_deref(), Some("ref"));
            assert_eq!((&borrowed).a().get("k").await.as_deref(), Some("ref"));
            let fresh = mem();
            every_spelling(&fresh as &dyn Store).await;

            let native: Arc<dyn Store> = Arc::new(Native);
            assert_eq!(native.get("k").as_deref(), Some("blocking"));
            assert_eq!(native.aget("k").await.as_deref(), Some("async"));
            // Static calls are unchanged, generic methods included.
            let mem = mem();
            mem.put("n", "42");
            assert_eq!(mem.aget_parsed::<u8>("n").await, Some(42));
            assert_eq!(mem.get_parsed::<u8>("n"), Some(42));
            every_spelling(mem).await;
        });
    }

    /// `&mut self` methods: a `Box<dyn ..>` forwards them (an `Arc` cannot).
    #[auto_async(dyn)]
    pub trait Counter: Send + Sync {
        async fn add(&mut self, n: u32) -> u32;
        fn total(&self) -> u32;
    }

    #[derive(Default)]
    pub struct Total(u32);

    impl Counter for Total {
        async fn aadd(&mut self, n: u32) -> u32 {
            self.0 += n;
            self.0
        }
        fn total(&self) -> u32 {
            self.0
        }
    }

    #[test]
    fn box_forwards_mut_self_methods() {
        everywhere(|| async {
            let mut boxed: Box<dyn Counter> = Box::<Total>::default();
            assert_eq!(boxed.add(1), 1);
            assert_eq!(boxed.aadd(2).await, 3);
            assert_eq!(boxed.a_mut().add(3).await, 6);
            assert_eq!((boxed.total(), boxed.a().total().await), (6, 6));
        });
    }
}

/// `#[auto_async]` on an impl block: the implementor writes the definition's names.
mod impl_side {
    use super::*;

    #[auto_async]
    pub trait Store: Send + Sync {
        async fn get(&self, key: &str) -> Option<String>;
        fn set(&self, key: &str, value: &str);
        #[auto_async(skip)]
        #[allow(async_fn_in_trait)]
        async fn flush(&self) -> usize;
    }

    /// Records which side each call reached.
    #[derive(Default)]
    pub struct Mem {
        map: Mutex<HashMap<String, String>>,
        sides: Mutex<Vec<&'static str>>,
    }

    impl Mem {
        fn reached(&self, side: &'static str) {
            self.sides.lock().expect("not poisoned").push(side);
        }
    }

    #[auto_async]
    impl Store for Mem {
        /// The native async side of `get`.
        async fn get(&self, key: &str) -> Option<String> {
            self.reached("async get");
            self.map.lock().expect("not poisoned").get(key).cloned()
        }
        /// The native blocking side of `set`.
        fn set(&self, key: &str, value: &str) {
            self.reached("blocking set");
            self.map
                .lock()
                .expect("not poisoned")
                .insert(key.into(), value.into());
        }
        /// Injection by the definition's name: the async side of `set`, written natively.
        async fn set(&self, key: &str, value: &str) {
            self.reached("async set");
            self.map
                .lock()
                .expect("not poisoned")
                .insert(key.into(), value.into());
        }
        /// A method the trait skips keeps its name.
        #[auto_async(skip)]
        async fn flush(&self) -> usize {
            std::mem::take(&mut *self.map.lock().expect("not poisoned")).len()
        }
    }

    #[test]
    fn an_impl_written_with_the_definitions_names() {
        everywhere(|| async {
            let mem = Mem::default();
            mem.set("a", "1");
            mem.aset("b", "2").await;
            mem.a().set("c", "3").await;
            assert_eq!(mem.get("a").as_deref(), Some("1"));
            assert_eq!(mem.aget("b").await.as_deref(), Some("2"));
            assert_eq!(mem.a().get("c").await.as_deref(), Some("3"));
            assert_eq!(mem.flush().await, 3);
            assert_eq!(
                *mem.sides.lock().expect("not poisoned"),
                [
                    "blocking set",
                    "async set",
                    "async set",
                    "async get",
                    "async get",
                    "async get"
                ]
            );
        });
    }
}

/// `forward(Type)`: a type that opts in to the handles (as `cachex::Cache` does) implements the
/// trait by forwarding, so it can be passed where the trait is expected.
mod forwarding {
    use super::*;
    use std::ops::Deref;

    #[auto_async(forward(App))]
    pub trait Store: Send + Sync {
        type Value: Clone + Send;
        const NAME: &'static str;
        async fn get(&self, key: &str) -> Option<Self::Value>;
        fn put(&self, key: &str, value: Self::Value);
        /// Generic, with a default body.
        async fn get_as<T: From<Self::Value> + Send>(&self, key: &str) -> Option<T> {
            self.aget(key).await.map(T::from)
        }
        #[auto_async(skip)]
        fn label(&self, prefix: &str) -> String;
        /// `&mut self`, provided: the forwarding type keeps the default.
        fn reset(&mut self) -> bool {
            false
        }
    }

    #[derive(Default)]
    pub struct Mem {
        map: Mutex<HashMap<String, u8>>,
        blocking_gets: AtomicUsize,
    }

    impl Store for Mem {
        type Value = u8;
        const NAME: &'static str = "mem";
        async fn aget(&self, key: &str) -> Option<u8> {
            self.map.lock().expect("not poisoned").get(key).copied()
        }
        /// Injected: calls through the forwarding type reach it.
        fn get(&self, key: &str) -> Option<u8> {
            self.blocking_gets.fetch_add(1, Ordering::SeqCst);
            self.map.lock().expect("not poisoned").get(key).copied()
        }
        fn put(&self, key: &str, value: u8) {
            self.map
                .lock()
                .expect("not poisoned")
                .insert(key.into(), value);
        }
        fn label(&self, prefix: &str) -> String {
            format!("{prefix}{}", Self::NAME)
        }
    }

    /// Mimics `cachex::Cache`: one `Arc` around handles built once.
    #[derive(Clone, Default)]
    pub struct App(Arc<StoreHandles<Arc<Mem>>>);

    impl Default for StoreHandles<Arc<Mem>> {
        fn default() -> Self {
            StoreHandles::new(Arc::default())
        }
    }

    impl Deref for App {
        type Target = StoreHandles<Arc<Mem>>;
        fn deref(&self) -> &Self::Target {
            &self.0
        }
    }

    /// Generic code over the trait, given the forwarding type itself.
    async fn total<S: Store<Value = u8>>(store: &S, keys: &[&str]) -> u32 {
        let mut total = 0;
        for key in keys {
            total += u32::from(store.get(key).unwrap_or(0));
            total += u32::from(store.aget(key).await.unwrap_or(0));
            total += u32::from(store.a().get(key).await.unwrap_or(0));
        }
        total
    }

    #[test]
    fn a_forwarding_type_is_an_implementor() {
        everywhere(|| async {
            let app = App::default();
            app.put("a", 1);
            app.aput("b", 2).await;
            app.put.as_sync("c", 3);
            assert_eq!(total(&app, &["a", "b", "c"]).await, 18);
            assert_eq!(app.get_as::<u32>("a"), Some(1));
            assert_eq!(app.a().get_as::<u64>("b").await, Some(2));
            assert_eq!(app.get.as_async("c").await, Some(3));
            assert_eq!((App::NAME, app.label("#")), ("mem", "#mem".into()));
            assert_eq!(app.0.blocking_gets.load(Ordering::SeqCst), 3);
            let mut owned = app.clone();
            assert!(!owned.reset());
        });
    }
}
