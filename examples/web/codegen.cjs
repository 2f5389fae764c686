// GraphQL Code Generator: typed documents from the server's checked-in
// schema (no running server needed), and the persisted documents the
// server's trusted-documents setting reads (SHA-256, as it expects).
// urql adds `__typename` to every selection (its cache needs it), so the
// persisted documents are written with it too.
const { addTypenameSelectionDocumentTransform } = require('@graphql-codegen/client-preset');

/** @type {import('@graphql-codegen/cli').CodegenConfig} */
module.exports = {
  schema: '../../schema.graphql',
  documents: ['src/**/*.tsx', '!src/gql/**'],
  ignoreNoDocuments: false,
  generates: {
    './src/gql/': {
      preset: 'client',
      documentTransforms: [addTypenameSelectionDocumentTransform],
      presetConfig: {
        persistedDocuments: { hashAlgorithm: 'sha256' },
        fragmentMasking: false,
      },
      config: {
        enumsAsTypes: true,
        scalars: { DateTime: 'string', Duration: 'string' },
        useTypeImports: true,
      },
    },
  },
};
