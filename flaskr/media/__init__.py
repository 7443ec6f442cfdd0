"""Pictures in posts: uploads checked and cleaned (pipeline), stored, and shown."""
