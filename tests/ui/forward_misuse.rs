// A forwarding type reaches its implementor through `&self`: a required `&mut self` method is
// reported, and no forwarding impl is generated.
use std::sync::Arc;

#[cachex::auto_async(forward(App))]
pub trait Counter: Send + Sync {
    fn add(&mut self, n: u32) -> u32;
    fn total(&self) -> u32;
}

struct Total(u32);

impl Counter for Total {
    fn add(&mut self, n: u32) -> u32 {
        self.0 += n;
        self.0
    }
    fn total(&self) -> u32 {
        self.0
    }
}

pub struct App(Arc<CounterHandles<Arc<Total>>>);

impl std::ops::Deref for App {
    type Target = CounterHandles<Arc<Total>>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

fn main() {
    let app = App(Arc::new(CounterHandles::new(Arc::new(Total(1)))));
    let _ = app.total.as_sync();
}
