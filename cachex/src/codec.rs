//! Value codecs: how values become the bytes stored in the cache, in django-cachex's format.
