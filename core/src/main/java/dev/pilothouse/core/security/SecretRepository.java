package dev.pilothouse.core.security;

import java.util.List;

/** Where secrets are kept (the store), sealed. */
public interface SecretRepository {
  void saveSecret(SecretRecord secret);

  List<SecretRecord> secrets();

  void deleteSecret(String name);
}
