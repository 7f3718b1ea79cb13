from tandem_lsp.cli import main

raise SystemExit(main())
