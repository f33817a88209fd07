// A type with handles that forgets to bring the trait into scope: the handles' fields are not
// methods, and rustc names the trait to import, which the forwarding type implements.
mod api {
    use std::sync::Arc;

    #[cachex::auto_async(forward(App))]
    pub trait Store: Send + Sync {
        async fn get(&self, key: &str) -> Option<u8>;
    }

    pub struct Mem;

    impl Store for Mem {
        async fn aget(&self, _: &str) -> Option<u8> {
            None
        }
    }

    pub struct App(pub Arc<StoreHandles<Arc<Mem>>>);

    impl std::ops::Deref for App {
        type Target = StoreHandles<Arc<Mem>>;
        fn deref(&self) -> &Self::Target {
            &self.0
        }
    }
}

fn main() {
    let app = api::App(std::sync::Arc::new(api::StoreHandles::new(std::sync::Arc::new(api::Mem))));
    let _ = app.get("k");
}
