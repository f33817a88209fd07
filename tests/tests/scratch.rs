use cachex::auto_async;
#[auto_async]
pub trait Store: Send + Sync {
    async fn get(&self, key: &str) -> Option<String>;
    fn size(&self) -> usize;
}
fn main() {}
