package dev.pilothouse.core.security;

import java.util.List;

/** Where API tokens are kept (the store): by name, revoked ones too (for the audit trail). */
public interface TokenRepository {
  void saveToken(ApiToken token);

  List<ApiToken> tokens();
}
