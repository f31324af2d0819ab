from instrument.console import main

raise SystemExit(main())
