"""ATU Facilities: the application factory is app.factory.create_app; the kernel modules live beside it."""
