/* e2e client */
