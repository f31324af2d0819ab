from instrument.cli import main

raise SystemExit(main())
