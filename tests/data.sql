-- Accounts as the tutorial's code stored them: werkzeug hashes, inserted by raw SQL.
-- test/test and other/other (pbkdf2, the tutorial's own rows); scrypt/other (scrypt).
INSERT INTO "user" (username, password)
VALUES
  ('test', 'pbkdf2:sha256:50000$TCI4GzcX$0de171a4f4dac32e3364c7ddc7c14f3e2fa61f2d17574483f7ffbb431b4acb2f'),
  ('other', 'pbkdf2:sha256:50000$kJPKsz6N$d2d4784f1b030a9761f5ccaeeaca413f27f2ecb76d6168407af962ddce849f79'),
  ('scrypt', 'scrypt:16384:8:1$X94N0uYmqMe3IIqj$195b44bd9420b6e87253226503183e98ef8f826dc0707cf3649eaed4a12f1b06b1cdd19aadb89921dcf9e7d54922f71054bcbaa9b6efbe71a492b0aed4d991f8');

INSERT INTO post (title, body, author_id, created)
VALUES
  ('test title', 'test
body', 1, '2018-01-01 00:00:00');
